# Baton: the two commands are `make run` and `make test`. See README.md.
JOBS ?= $(shell nproc)
DATA ?= ./baton-data
LISTEN ?= 127.0.0.1:8080
BRIEF ?= A todo app with user accounts, shared lists and reminders

.PHONY: all deps build run demo test bench fuzz format clean

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j$(JOBS) --target baton

# The server on loopback with SQLite in $(DATA) and the offline model (no keys needed).
run: build
	@echo "Baton: http://$(LISTEN)  (Ctrl-C stops it). Start a run with:"
	@echo "  curl -X POST http://$(LISTEN)/api/v1/runs -d '{\"workflow\": \"sdlc\", \"inputs\": {\"project_brief\": \"A todo app\"}}'"
	@./build/baton serve --listen $(LISTEN) --data-dir $(DATA)

# The SDLC template live in the terminal.
demo: build
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

# Rewrites every tracked C file in the house style (.clang-format); make test checks it.
format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf build
