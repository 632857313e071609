# s3audit in a container: the image the README's Kubernetes and AWS Batch recipes run.
#   docker build -t s3audit .
#   docker run --rm s3audit demo                      # no AWS account needed
#   docker run --rm -v "$PWD/specs:/work/specs:ro" -v "$PWD/reports:/work/reports" \
#     -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN \
#     s3audit audit --fail-on high
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/s3audit/.venv/bin:$PATH

# A fixed, unprivileged user: the audit only reads AWS and writes its reports.
RUN groupadd --system --gid 10001 s3audit \
 && useradd --system --uid 10001 --gid s3audit --home-dir /work --create-home --shell /usr/sbin/nologin s3audit

WORKDIR /opt/s3audit
COPY pyproject.toml README.md ./
COPY auditor ./auditor
COPY specs ./specs
# Installed as the README installs it: a venv and pip install -e with the demo extra, so
# `s3audit demo` works in the image too.
RUN python3 -m venv .venv \
 && .venv/bin/pip install -e '.[demo]' \
 && cp -r specs /work/specs \
 && chown -R s3audit:s3audit /work

USER 10001:10001
WORKDIR /work
ENTRYPOINT ["s3audit"]
CMD ["--help"]
