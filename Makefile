# Packaging entry points; building and testing the code itself is `swift build` / scripts/test.
#   make deb               mediapeer_VERSION_ARCH.deb for this machine's architecture, in out/
#   make deb ARCH=arm64    the same for arm64 (or armhf), cross-built with a Swift SDK (README: "ARM boards")
#   make lint              lintian on the package
#   make test-package      the clean-install test in a Debian 12 root (scripts/test-package)
#   make size              what each part of the binary costs (scripts/size-report)

ARCH ?= $(shell dpkg --print-architecture)
VERSION := $(shell sed -n 's/.*static let string = "\(.*\)"/\1/p' Sources/ControlWire/WireTypes.swift)
DEB := out/mediapeer_$(VERSION)_$(ARCH).deb

.PHONY: deb lint test-package size clean

deb:
	ARCH=$(ARCH) VERSION=$(VERSION) packaging/build-deb

lint: deb
	lintian --info --display-info --pedantic $(DEB)

test-package: deb
	scripts/test-package $(DEB)

size:
	scripts/size-report

clean:
	rm -rf out
