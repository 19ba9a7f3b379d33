# Top-level entry points; CMake does the building underneath.
#   make            build (build/)
#   make demo       install what is missing, build, run the main job
#   make test       install what is missing, build, run every test
#   make sanitize   every test again under ASan and UBSan (build-asan/), the
#                   threads test under TSan (build-tsan/)
#   make install PREFIX=DIR
#   make goldens    regenerate tests/golden/ with real Keras (tests/oracle/)
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build

.PHONY: all build deps demo test sanitize install goldens clean

all: build

deps:
	./scripts/install-deps.sh

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: deps build
	./scripts/demo.sh $(BUILD)

test: deps build
	./scripts/run-tests.sh $(BUILD)

sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCKERAS_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	./scripts/run-tests.sh build-asan
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCKERAS_TSAN=ON >/dev/null
	@cmake --build build-tsan -j $(JOBS) --target test_shared_model
	# libgomp is not instrumented: one OpenMP thread, so the races TSan sees are ours.
	cd build-tsan && OMP_NUM_THREADS=1 TSAN_OPTIONS=halt_on_error=1 CKERAS_ROOT=$(CURDIR) ./test_shared_model

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

goldens: deps
	./scripts/goldens.sh

clean:
	rm -rf build build-asan build-tsan
