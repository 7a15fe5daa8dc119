# kur's verbs. Each target does real work; `make help` lists them.
SHELL := /bin/bash
NPM_STAMP := node_modules/.package-lock.json
KUR := node bin/kur.js

.PHONY: help deps engines build lint typecheck test go-test config-fields integration e2e release-test check node-image cluster bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: $(NPM_STAMP) ## npm dependencies (Go and Debian packages come from `make engines`)

engines: ## as root: install Debian packages, start rootful Docker, rootless Docker and rootless Podman
	bash e2e/host/setup-engines.sh

build: $(NPM_STAMP) ## compile TypeScript to dist/
	npm run build

typecheck: $(NPM_STAMP) ## tsc --noEmit over src and e2e
	npm run typecheck

lint: $(NPM_STAMP) typecheck ## eslint (zero warnings) and prettier
	npm run lint

test: build ## unit tests (pure logic, no engine)
	npm run test:unit

# kur's own Go programs (the upstream components under images/go are built, not tested, here).
GO_MODULES := $(sort $(dir $(wildcard images/go/*/*_test.go)))
go-test: ## go vet + go test of kur's own Go programs under images/go
	@for m in $(GO_MODULES); do echo "go test $$m"; (cd $$m && go vet ./... && go test ./...) || exit 1; done

# The field lists kubeadm/kubelet/kube-proxy patches are checked against, read by reflection from
# the pinned Kubernetes types; `go test` in images/go/config-fields fails while the file is stale.
config-fields: ## regenerate src/patch/kubeadm-fields.json from the pinned Kubernetes types
	cd images/go/config-fields && go run . -o ../../../src/patch/kubeadm-fields.json

# KUR_TEST_REQUIRE_ENGINES=1: a missing engines.env fails the run instead of skipping it.
integration: build ## engine integration tests on every engine in /var/lib/kur-test/engines.env
	KUR_TEST_REQUIRE_ENGINES=1 npm run test:integration

e2e: build ## end-to-end: clusters, library API, GitHub Action, npm pack (builds the node image when missing)
	KUR_TEST_REQUIRE_ENGINES=1 npm run test:e2e
	KUR_TEST_REQUIRE_ENGINES=1 npm run test:library
	KUR_TEST_REQUIRE_ENGINES=1 npm run test:action
	KUR_TEST_REQUIRE_ENGINES=1 npm run test:pack

# The release download path, fed with release-shaped archives made from the Go-built binaries
# (needs the node image build's cache, so it runs after e2e has built the image).
release-test: build ## the release path against a local server serving the Go-built binaries
	KUR_TEST_REQUIRE_GO_BUILD=1 npx mocha --timeout 300000 src/nodeimage/release-from-go-build.test.ts

# The README's test command. CI (.ci/run) runs exactly this, as root, on a fresh clone.
check: engines lint test go-test integration e2e release-test ## everything: engines, lint, unit, Go, integration, e2e

node-image: build ## build the default node image and load it into the engine kur finds
	$(KUR) build node-image

# As root on a fresh Debian host it first installs and starts the engines; as a user it uses
# whatever engine kur finds (see README: pointing kur at an engine).
cluster: build ## create a cluster (builds the node image first when the engine lacks it)
	@if [ "$$(id -u)" = 0 ]; then bash e2e/host/setup-engines.sh; fi
	$(KUR) create cluster

bench: build ## benchmarks: node image build and cluster create/delete, as JSON
	npm run bench

clean: ## remove build output (caches under ~/.cache/kur stay)
	rm -rf dist
