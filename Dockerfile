# binance-diag in a container, for teams that probe from where their bots run:
#   docker build -t binance-diag .
#   docker run --rm binance-diag probe BTCUSDT
#   docker run --rm -v "$PWD:/out" binance-diag probe BTCUSDT --format junit --output /out/probe.xml
FROM python:3.11-slim

WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY binance_diag ./binance_diag
RUN python -m pip install --no-cache-dir --disable-pip-version-check . \
    && rm -rf /src

WORKDIR /out
# No root needed: binance-diag only opens outgoing connections and writes --output files.
USER nobody
ENTRYPOINT ["binance-diag"]
CMD ["--help"]
