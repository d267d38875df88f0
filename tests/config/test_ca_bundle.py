import os
from pathlib import Path

import pytest
import trustme

from binance_diag.config.ca_bundle import MAX_CA_BUNDLE_BYTES, parse_ca_bundle
from binance_diag.config.errors import ConfigError

PEM = trustme.CA().cert_pem.bytes().decode()
"""A real CA certificate: the bundle check loads it with OpenSSL."""


def test_ca_bundle_must_be_readable_pem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="cannot read"):
        parse_ca_bundle(str(tmp_path / "missing.pem"))
    empty = tmp_path / "empty.pem"
    empty.write_text("hello")
    with pytest.raises(ConfigError, match="no PEM"):
        parse_ca_bundle(str(empty))


def test_ca_bundle_that_openssl_rejects_is_bad_input(tmp_path: Path) -> None:
    good = PEM.encode()
    corrupt = b"-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n"
    for name, data in [("garbage.pem", corrupt), ("mixed.pem", good + corrupt)]:
        bundle = tmp_path / name
        bundle.write_bytes(data)
        with pytest.raises(ConfigError, match=f"cannot load --ca-bundle {bundle}: OpenSSL"):
            parse_ca_bundle(str(bundle))
    (tmp_path / "good.pem").write_bytes(good)
    assert parse_ca_bundle(str(tmp_path / "good.pem")) == tmp_path / "good.pem"


def test_ca_bundle_must_be_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a regular file"):
        parse_ca_bundle(str(tmp_path))
    with pytest.raises(ConfigError, match="--ca-bundle is empty"):
        parse_ca_bundle("")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.timeout(5)
def test_ca_bundle_fifo_without_writer_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=f"--ca-bundle {fifo} is not a regular file"):
        parse_ca_bundle(str(fifo))


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
@pytest.mark.timeout(5)
def test_ca_bundle_device_is_refused_not_read() -> None:
    with pytest.raises(ConfigError, match="/dev/zero is not a regular file"):
        parse_ca_bundle("/dev/zero")


def test_ca_bundle_size_is_capped(tmp_path: Path) -> None:
    at_cap, over = tmp_path / "at-cap.pem", tmp_path / "over.pem"
    for path, size in ((at_cap, MAX_CA_BUNDLE_BYTES), (over, MAX_CA_BUNDLE_BYTES + 1)):
        with path.open("wb") as handle:
            handle.write(PEM.encode())
            handle.truncate(size)  # sparse: no 10 MiB written
    assert parse_ca_bundle(str(at_cap)) == at_cap
    with pytest.raises(ConfigError, match="is larger than 10 MiB: not a CA bundle"):
        parse_ca_bundle(str(over))


def test_ca_bundle_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.pem"
    real.write_text(PEM)
    link = tmp_path / "link.pem"
    link.symlink_to(real)
    assert parse_ca_bundle(str(link)) == link


def test_a_bundle_with_utf8_comments_loads(tmp_path: Path) -> None:
    bundle = tmp_path / "distro.pem"
    bundle.write_bytes("# Issuer: CN=Főtanúsítvány\n".encode() + PEM.encode())
    assert parse_ca_bundle(str(bundle)) == bundle
