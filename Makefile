# Baton: the two commands are `make run` and `make test`. See README.md.
JOBS ?= $(shell nproc)
DATA ?= ./baton-data
BRIEF ?= A todo app with user accounts, shared lists and reminders

.PHONY: all deps build run test bench fuzz clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j$(JOBS) --target baton

# Until the server lands, `make run` runs the SDLC template live in the terminal.
run: build
	./build/baton run workflows/sdlc.yaml --auto-approve --data-dir $(DATA) \
	    --input project_brief="$(BRIEF)"

# The test build: clang with ASan+UBSan, unit tests, CLI tests and bounded fuzzing.
test: deps
	@CC=clang cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Debug -DBATON_SANITIZE=ON \
	    -DBATON_TESTS=ON -DBATON_FUZZ=ON >/dev/null
	@cmake --build build/test -j$(JOBS)
	@cd build/test && ctest --output-on-failure -j$(JOBS)

bench: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j$(JOBS)
	@bash bench/run.sh build

clean:
	rm -rf build
