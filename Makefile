# Kutse — the two commands are `make run` and `make test`; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo
# cargo-nextest when present (faster, one process per test); cargo test otherwise.
NEXTEST := $(shell $(CARGO) nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: help stack stack-down run seed walkthrough test fmt lint lint-deploy bench chaos mail-preview dev-token

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

stack: ## start the local stack (PostgreSQL, RabbitMQ, SeaweedFS, maildev), installing what is missing
	@deploy/stack/up.sh

stack-down: ## stop what `make stack` started (and nothing else)
	@deploy/stack/down.sh

run: stack ## bring up the stack and run all six services (Ctrl-C stops them)
	@$(CARGO) build --bin kutse-intake --bin kutse-documents --bin kutse-assessment \
	  --bin kutse-committee --bin kutse-certificates --bin kutse-notifications --bin kutse-dev-token \
	  --bin kutse-protocol
	@deploy/run-services.sh

seed: ## load the demo awarding body, qualifications and rounds into the running services
	@$(CARGO) build -q --bin kutse-dev-token
	@deploy/seed.sh

walkthrough: ## with `make run` running: one application to an e-mailed, verified certificate (deploy/walkthrough.sh)
	@deploy/walkthrough.sh

test: stack ## bring up the stack and run the whole test suite
	@python3 deploy/stack/clean-test-queues.py
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast
else
	$(CARGO) test --workspace --no-fail-fast
endif

fmt: ## check formatting
	$(CARGO) fmt --all --check

lint: ## clippy (warnings are errors, clippy.toml's forbidden calls), and no unused dependencies
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@python3 deploy/unused-deps.py

lint-deploy: ## validate the Helm chart (lint, render, Kubernetes schemas) and the compose file, offline
	@deploy/lint-deploy.sh

bench: stack ## P1: applications per second against a bare INSERT; event-pipeline throughput against raw RabbitMQ; P5 e-mail throughput against bare SMTP sessions and protocol → certificate → e-mail latency; documents' memory under 20 parallel 100 MiB uploads and scan throughput; P4: one 1 GiB upload against a direct concurrent S3 multipart upload; P3: 10,000 awards in one protocol, and their PDFs; the data tracker's cost on the read path
	$(CARGO) run --release -p kutse-tests --example intake_bench
	$(CARGO) run --release -p kutse-messaging --example pipeline_bench
	$(CARGO) run --release -p kutse-tests --example upload_bench
	$(CARGO) run --release -p kutse-tests --example large_upload_bench
	$(CARGO) run --release -p kutse-tests --example issuance_bench
	$(CARGO) run --release -p kutse-tests --example data_reads_bench
	$(CARGO) run --release -p kutse-notifications --example mail_bench
	$(CARGO) run --release -p kutse-tests --example latency_bench

chaos: stack ## the chaos run (not in CI): 100 applications while services are killed and the broker restarted, with one and with three replicas of every service; prints what was lost or doubled and the time to settle
	$(CARGO) run --release -p kutse-tests --example chaos -- --replicas 1
	$(CARGO) run --release -p kutse-tests --example chaos -- --replicas 3

mail-preview: ## render every e-mail (Estonian and English, text and HTML) with sample data into target/mail-preview/index.html
	@$(CARGO) run -q -p kutse-notifications --bin kutse-mail-preview -- target/mail-preview

dev-token: ## log a person in (TARA stand-in) and print their access token: make dev-token ARGS="--code 38001085718 --body <uuid>"
	@$(CARGO) run -q --bin kutse-dev-token -- token $(ARGS)
