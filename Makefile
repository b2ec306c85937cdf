# halab: `make lab-up` brings up and provisions the lab described by
# lab.yaml (CONFIG=...), `make test` runs unit and end-to-end tests.
SHELL := /bin/bash
GO ?= go
CONFIG ?= lab.yaml
HALAB := bin/halab
export VAGRANT_CHECKPOINT_DISABLE := 1

.PHONY: all build deps image jdk lab-up lab-down provision status test test-unit test-e2e scenarios check-initd bench clean

all: build

build:
	$(GO) build -o $(HALAB) ./cmd/halab

# Installs (as root on Debian/Ubuntu) and starts what a lab of CONFIG's
# provider needs: docker engine and debootstrap, or vagrant and VirtualBox.
deps: build
	p=$$($(HALAB) -c $(CONFIG) config --provider) && .ci/deps "$$p"

jdk: build/jdk.tar.gz
build/jdk.tar.gz:
	.ci/jdk $@

image: build deps
	$(HALAB) -c $(CONFIG) image

lab-up: build deps jdk
	$(HALAB) -c $(CONFIG) up
	$(HALAB) -c $(CONFIG) provision

provision: build jdk
	$(HALAB) -c $(CONFIG) provision

status: build
	$(HALAB) -c $(CONFIG) status

lab-down: build
	$(HALAB) -c $(CONFIG) down

# Parsers, validators, templates (golden files), command plans, and the
# init script against a real JVM on this machine.
test-unit:
	$(GO) test ./...

# Real labs: containers, sshd, Pacemaker, SFTP, both docker-provider stacks.
# E2E_PARALLEL labs run at once (each its own name, subnet and ports);
# E2E_PARALLEL=1 runs them one after the other.
E2E_PARALLEL ?= 3
test-e2e: build deps jdk
	HALAB_E2E=1 $(GO) test -count=1 -timeout 80m -parallel $(E2E_PARALLEL) -v ./cmd/halab -run 'TestE2E'

test: test-unit test-e2e

# Failover scenarios against the running lab (after make lab-up), with
# the Ginkgo CLI pinned in go.mod (halab test builds it into build/).
# LABELS='node || network' selects by label; REPEAT=N power-offs; HEAVY=1
# adds the specs labelled heavy, which the default run leaves out.
LABELS ?=
REPEAT ?= 2
HEAVY ?=
scenarios: build
	$(HALAB) -c $(CONFIG) test --labels '$(LABELS)' --repeat $(REPEAT) $(if $(HEAVY),--heavy)

# Bring-up, provisioning, JDK upload and failover figures against their
# baselines, into build/bench/bench.{md,json,html}. It destroys and recreates its
# lab: bench.yaml is a lab of its own (name, subnet, ports, image).
BENCH_CONFIG ?= bench.yaml
bench: build deps jdk
	$(HALAB) -c $(BENCH_CONFIG) bench --reps $(or $(REPS),3)

clean:
	rm -rf bin build
