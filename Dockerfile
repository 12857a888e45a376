# The prediction service, `deno task serve`, on the official Deno image at the project's pinned
# version (deno.json's tasks, README: Deno 2.9.6).
#
#   docker build -t orchard .
#   docker run -p 8000:8000 -v "$PWD/models:/app/models" orchard    # serves models:/churn@champion
#   docker compose up                                                # PostgreSQL, Redis, pipeline, service, UI
#
# This image has not been built on the project's machines (they run no Docker engine):
# tests/container/dockerfile_test.ts checks that every COPY source exists and is not excluded by
# .dockerignore, and runs the install and start commands below in a temporary directory the way
# the image would (deno install, then deno task serve, then the HEALTHCHECK's request to /ready).
FROM denoland/deno:debian-2.9.6

# a font for the text of ct's PNG charts (the rasteriser draws text with a system font; the base
# image has none)
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
  && rm -rf /var/lib/apt/lists/*

# the image's own non-root user (uid 1993); the app folder and the Deno dir are its own
WORKDIR /app
RUN chown deno:deno /app && mkdir -p /deno-dir && chown deno:deno /deno-dir
ENV DENO_DIR=/deno-dir
USER deno

# dependencies in their own layer: rebuilt only when deno.json or deno.lock change
COPY --chown=deno:deno deno.json deno.lock ./
RUN deno install --frozen

# the code and the config; then the service's modules compiled into the Deno dir
COPY --chown=deno:deno params.yaml ./
COPY --chown=deno:deno src/ ./src/
COPY --chown=deno:deno tasks/ ./tasks/
COPY --chown=deno:deno plugins/ ./plugins/
RUN deno cache --frozen tasks/serve.ts src/serve/runner.ts src/serve/worker.ts src/serve/app.ts tasks/ui.ts tasks/ct.ts \
  && mkdir -p data models reports

# the model is mounted (models/, with the store) or found through ORCHARD_TRACKING_URI
ENV PORT=8000 MODEL_URI=models:/churn@champion
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('PORT') ?? '8000'}/ready`).catch(() => null); Deno.exit(r?.ok ? 0 : 1)"]
CMD ["deno", "task", "serve"]
