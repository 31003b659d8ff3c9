# simkl-server in a container. Build: `docker build -t simkl-server .`
# Run for a client's tests:  docker run --rm -p 8765:8765 simkl-server serve --demo --control
# Run to keep your data:      docker run -d -p 8765:8765 -v simkl-data:/data simkl-server
# (with PostgreSQL: compose.yaml). The wheel is built from this checkout; its dependencies are
# installed at the versions requirements.lock pins.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE requirements.lock ./
COPY simkl_server ./simkl_server
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && grep -E '^[A-Za-z0-9._-]+==' requirements.lock | sed 's/ *\\$//' > /wheels/constraints.txt

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 simkl && mkdir /data && chown simkl /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --constraint /wheels/constraints.txt /wheels/*.whl \
 && rm -rf /wheels
USER simkl
WORKDIR /data
# Inside a container the server listens on every interface; the data stays in /data.
ENV SIMKL_SERVER_HOST=0.0.0.0 \
    SIMKL_SERVER_PORT=8765 \
    SIMKL_SERVER_DATABASE_URL=sqlite:////data/simkl-server.db
VOLUME /data
EXPOSE 8765
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/health', timeout=4)"]
ENTRYPOINT ["simkl-server"]
CMD ["serve"]
