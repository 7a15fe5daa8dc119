# kur's verbs. Each target does real work; `make help` lists them.
SHELL := /bin/bash
NPM_STAMP := node_modules/.package-lock.json

.PHONY: help build lint typecheck test integration check clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: $(NPM_STAMP) ## compile TypeScript to dist/
	npm run build

typecheck: $(NPM_STAMP) ## tsc --noEmit over src and e2e
	npm run typecheck

lint: $(NPM_STAMP) typecheck ## eslint (zero warnings) and prettier
	npm run lint

test: build ## unit tests (pure logic, no engine)
	npm run test:unit

# KUR_TEST_REQUIRE_ENGINES=1: a missing engines.env fails the run instead of skipping it.
integration: build ## engine integration tests on every engine in /var/lib/kur-test/engines.env
	KUR_TEST_REQUIRE_ENGINES=1 npm run test:integration

# The README's test command. CI (.ci/run) sets up the engines first, then runs this.
check: lint test integration ## everything CI runs: lint, unit, integration

clean: ## remove build output (caches under ~/.cache/kur stay)
	rm -rf dist
