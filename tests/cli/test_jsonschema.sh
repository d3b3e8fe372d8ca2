#!/usr/bin/env bash
# `baton validate` on output schemas outside Baton's JSON Schema subset: each refusal is located
# at the offending keyword (FILE:LINE:COL), with a did-you-mean for near misses; a schema inside
# the subset (pattern, patternProperties, the four formats, annotations) is fine.
source "$(dirname "$0")/lib.sh" "$@"
cd "$WORK"

cat > bad.yaml <<'YAML'
name: Schemas
agents:
  checker:
    role: Checker
    goal: Check
    output:
      format: json
      schema:
        type: object
        properties:
          id:
            type: string
            proprties: {}
  dater:
    role: Dater
    goal: Date
    output:
      format: json
      schema:
        type: object
        properties:
          when: {type: string, format: datetime}
  matcher:
    role: Matcher
    goal: Match
    output:
      format: json
      schema:
        patternProperties:
          "^ok": {}
          "(": {}
  picky:
    role: Picky
    goal: Pick
    output:
      format: json
      schema:
        type: object
        anyOf: []
tasks:
  - {id: a, agent: checker}
  - {id: b, agent: dater}
  - {id: c, agent: matcher}
  - {id: d, agent: picky}
YAML
expect_exit 1 "$BATON" validate bad.yaml
e="$WORK/err"
expect_grep 'bad.yaml:13:13: error: invalid output schema: /properties/id/proprties: unknown keyword "proprties" (did you mean "properties"?)' "$e"
expect_grep 'bad.yaml:22:32: error: .*format "datetime" is not supported (did you mean "date-time"?)' "$e"
expect_grep 'bad.yaml:31:11: error: .*/patternProperties/(: the pattern does not compile: missing closing parenthesis' "$e"
expect_grep 'bad.yaml:39:9: error: .*/anyOf: keyword "anyOf" is not supported' "$e"

cat > good.yaml <<'YAML'
name: Schemas
agents:
  reporter:
    role: Reporter
    goal: Report
    output:
      format: json
      schema:
        $schema: http://json-schema.org/draft-07/schema#
        title: Report
        type: object
        required: [id, when, contact, link]
        properties:
          id: {type: string, pattern: '^[A-Z]{2,5}-\d+$', format: uuid, description: an id}
          when: {type: string, format: date-time, examples: ['2025-01-02T03:04:05Z']}
          contact: {type: string, format: email}
          link: {type: string, format: uri}
        patternProperties:
          '^x-': {type: string}
        additionalProperties: false
tasks:
  - {id: a, agent: reporter}
YAML
expect_exit 0 "$BATON" validate good.yaml
expect_grep "good.yaml: ok" "$WORK/out"
finish
