import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.config.timeouts import parse_timeout


def test_config_errors_are_value_errors_with_the_message_as_is() -> None:
    """Callers that only know ValueError still catch bad input; the CLI shows str() as is."""
    with pytest.raises(ValueError) as raised:
        parse_timeout(0, "--tls-timeout")
    assert isinstance(raised.value, ConfigError)
    message = str(raised.value)
    assert message.startswith("--tls-timeout must be more than 0 and at most 3600")
    assert message.endswith(", got 0") and "\n" not in message
