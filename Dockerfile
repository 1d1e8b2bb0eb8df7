# Kartoteka API image. Default command: `kartoteka serve` on 0.0.0.0:8000.
# Any other CLI command works too: `docker run IMAGE indexer`, `docker run IMAGE fsck`, ...
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    KARTOTEKA_DATA_DIR=/data

# libmagic: python-magic detects the MIME type of uploads with it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libmagic1 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 kartoteka \
    && useradd --system --uid 10001 --gid kartoteka --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin kartoteka

WORKDIR /src
# README.md is the package's long description (pyproject `readme`): the build needs it.
COPY pyproject.toml README.md ./
COPY kartoteka ./kartoteka
COPY schema ./schema
COPY resolvers ./resolvers
COPY dms ./dms
COPY storage ./storage
COPY search ./search
COPY auth ./auth
RUN pip install --no-cache-dir . \
    && rm -rf build ./*.egg-info

# Search compiles its Polish and English dictionaries once per machine (search/lemmas.py, about 25 s): here,
# into the image, rather than into the data volume at every new container's first start.
ENV XDG_CACHE_HOME=/opt/kartoteka/cache
RUN python -c "from search import lemmas; lemmas.load()" \
    && chown -R kartoteka:kartoteka /opt/kartoteka/cache

# /data: the data dir (embedded SQLite, blobs, index, generated secret key when none is set).
# /index: where docker-compose mounts the shared search index. It is created here, owned by
# the service user, so a fresh named volume mounted on it starts out writable by that user.
RUN mkdir -p /data /index && chown kartoteka:kartoteka /data /index
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001

EXPOSE 8000

# No curl in the slim image: ask /healthz with Python. A 503 (database or storage down)
# raises, so the check fails. The check assumes the default port 8000.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["kartoteka"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
