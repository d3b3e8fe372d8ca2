# Baton: the two commands are `make run` and `make test`. See README.md.
JOBS ?= $(shell nproc)
DATA ?= ./baton-data
LISTEN ?= 127.0.0.1:8080
BRIEF ?= A todo app with user accounts, shared lists and reminders
PREFIX ?= /usr/local

.PHONY: all deps deps-test build run demo install test bench fuzz format clean

all: build

# What building and running needs; the test toolchain comes with `make test` (deps-test).
deps:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j$(JOBS) --target baton baton_docs

# The binary, the agent catalog, the templates, defaults.yaml, the man page and the shell
# completions under $(PREFIX) (bin/, share/baton/, share/man/man1/, share/*completion*/).
install: build
	@cmake --install build --prefix "$(PREFIX)"

# The server on loopback with SQLite in $(DATA) and the offline model (no keys needed).
run: build
	@echo "Baton: http://$(LISTEN)  (Ctrl-C stops it). Start a run with:"
	@echo "  curl -X POST http://$(LISTEN)/api/v1/runs -d '{\"template\": \"sdlc\", \"inputs\": {\"project_brief\": \"A todo app\"}}'"
	@./build/baton serve --listen $(LISTEN) --data-dir $(DATA)

# The SDLC template live in the terminal.
demo: build
	./build/baton run workflows/sdlc.yaml --auto-approve --data-dir $(DATA) \
	    --input project_brief="$(BRIEF)"

# The test build: clang with ASan+UBSan, unit tests, CLI tests and bounded fuzzing. First the
# release build `make run` makes (gcc, -O2, NDEBUG), so a warning only gcc sees fails here too.
test: deps-test
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j$(JOBS) --target baton baton_docs
	@CC=clang cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Debug -DBATON_SANITIZE=ON \
	    -DBATON_TESTS=ON -DBATON_FUZZ=ON >/dev/null
	@cmake --build build/test -j$(JOBS)
	@cd build/test && ctest --output-on-failure -j$(JOBS)

bench: deps-test
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build -j$(JOBS)
	@bash bench/run.sh build

# Rewrites every tracked C file in the house style (.clang-format); make test checks it.
format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf build
