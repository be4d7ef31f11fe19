# Playcaller in a container: `docker build -t playcaller .`, then see compose.yaml.
# The image holds the locked runtime dependencies only (no dev tools), runs as a
# non-root user, and reports its health from GET /healthz.

FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# Dependencies first (a layer that changes only with uv.lock), then the project.
COPY pyproject.toml uv.lock ./
RUN uv sync --no-dev --locked --no-install-project
COPY README.md playcaller.yaml ./
COPY bot ./bot
COPY handlers ./handlers
COPY playbooks ./playbooks
COPY templates ./templates
COPY samples ./samples
# --no-editable installs the project as a wheel: config, playbooks and templates
# travel inside the package, so /app's sources are not needed at run time.
RUN uv sync --no-dev --locked --no-editable

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --user-group playcaller \
    && mkdir -p /data/guidelines /data/index \
    && chown -R playcaller:playcaller /data
COPY --from=build /app/.venv /app/.venv
# The sample guidelines as a starting point; mount your handbook over /data/guidelines.
COPY --chown=playcaller:playcaller playbooks/guidelines /data/guidelines
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PLAYCALLER_PORT=3978 \
    PLAYCALLER_GUIDELINES=/data/guidelines \
    PLAYCALLER_INDEX_DIR=/data/index \
    PLAYCALLER_STORE_URL=sqlite:////data/playcaller.db
WORKDIR /data
USER playcaller
VOLUME ["/data"]
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]
CMD ["playcaller", "serve"]
