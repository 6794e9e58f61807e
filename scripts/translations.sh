#!/usr/bin/env bash
# Translations: extract every user-visible string, merge it into each catalogue, compile.
#
#   scripts/translations.sh            extract + update + compile (after changing strings)
#   scripts/translations.sh compile    compile only (after editing a messages.po by hand)
#   scripts/translations.sh check      fail when a catalogue has untranslated or fuzzy entries
#
# English is the msgid itself, so only translations/ja is a catalogue.
#
# The compiled messages.mo files are COMMITTED on purpose, next to their messages.po:
# the app must work from a fresh clone (and from an installed package) with no
# compile step. After running this script, commit messages.pot, messages.po AND
# messages.mo together.
set -euo pipefail

cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-}"
if [[ -z "$PYBABEL" ]]; then
  if [[ -x venv/bin/pybabel ]]; then PYBABEL=venv/bin/pybabel
  elif [[ -x ../venv/bin/pybabel ]]; then PYBABEL=../venv/bin/pybabel
  else PYBABEL=pybabel; fi
fi
LOCALES=(ja)
POT=translations/messages.pot

extract() {
  # -k: the lazy forms used at import time (form labels, service messages).
  # Locations are file names only, so moving a line does not churn the catalogues.
  "$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
    --add-location=file --sort-output --width=100 \
    --project="Outreach Desk" --copyright-holder="Outreach Desk" \
    -o "$POT" .
}

update() {
  for locale in "${LOCALES[@]}"; do
    if [[ -f "translations/$locale/LC_MESSAGES/messages.po" ]]; then
      # No fuzzy matching: a guessed translation of a changed sentence is worse than none.
      "$PYBABEL" update -i "$POT" -d translations -l "$locale" --no-fuzzy-matching --ignore-obsolete --width=100
    else
      "$PYBABEL" init -i "$POT" -d translations -l "$locale" --width=100
    fi
  done
}

compile() {
  "$PYBABEL" compile -d translations --statistics
}

check() {
  # Uses the Python next to pybabel, which has Babel installed.
  local python
  python="$(dirname "$(command -v "$PYBABEL")")/python"
  [[ -x "$python" ]] || python=python3
  "$python" - "${LOCALES[@]}" <<'PY'
import sys
from babel.messages.pofile import read_po

bad = 0
for locale in sys.argv[1:]:
    with open(f"translations/{locale}/LC_MESSAGES/messages.po", "rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and (message.fuzzy or not all(strings)):
            bad += 1
            print(f"{locale}: untranslated or fuzzy: {message.id!r}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

case "${1:-all}" in
  all) extract; update; compile ;;
  extract) extract ;;
  update) update ;;
  compile) compile ;;
  check) check ;;
  *) echo "usage: $0 [all|extract|update|compile|check]" >&2; exit 2 ;;
esac
