#!/usr/bin/env bash
# Builds the code-search evaluation corpora for `make bench`: sources nobody here wrote,
# fetched only through the package registries (crates from the cargo registry, sdists from
# PyPI, a package from npm), unpacked into $1 (default ~/.cache/switchyard/corpora), one
# directory per corpus. Nothing downloaded is kept in the repository; this script is what
# makes the set reproducible. Versions are pinned, so every run evaluates the same code.
set -euo pipefail

out="${1:-$HOME/.cache/switchyard/corpora}"
mkdir -p "$out"
# Worked in beside the corpora (one filesystem: each corpus appears by one rename, so an
# interrupted run leaves no half-copied corpus that a later run would take as done).
work="$(mktemp -d "$out/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# name=version pairs per registry. Chosen for documented public functions (the queries are
# their doc comments' first sentences) and a size that embeds in a few minutes. semver has
# few documented items (its figures are noisy); itertools adds a Rust corpus with many.
crates=(semver=1.0.26 indexmap=2.7.1 itertools=0.14.0)
pypi=(click==8.1.7 attrs==24.2.0)
npm=(commander@12.1.0)

# Moves a package's sources to $2: its src/ where it has one (tests, docs and benchmarks
# are not what the queries ask for), else all of it.
keep_sources() {
  if [ -d "$1/src" ]; then mv "$1/src" "$2"; else mv "$1" "$2"; fi
}

for spec in "${crates[@]}"; do
  name="${spec%%=*}" version="${spec#*=}"
  dest="$out/rust-$name-$version"
  [ -d "$dest" ] && continue
  # A throwaway package depending on exactly that version: `cargo fetch` downloads its
  # .crate from the registry into cargo's cache, whence it is unpacked.
  proj="$work/fetch-$name"
  mkdir -p "$proj/src"
  printf '[package]\nname = "fetch-corpus"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\n%s = "=%s"\n' \
    "$name" "$version" > "$proj/Cargo.toml"
  : > "$proj/src/lib.rs"
  (cd "$proj" && cargo fetch -q)
  crate="$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$name-$version.crate" | head -1)"
  mkdir -p "$work/unpack-$name"
  tar -xzf "$crate" -C "$work/unpack-$name"
  keep_sources "$work/unpack-$name/$name-$version" "$dest"
done

for spec in "${pypi[@]}"; do
  name="${spec%%==*}" version="${spec#*==}"
  dest="$out/python-$name-$version"
  [ -d "$dest" ] && continue
  pip download -q --no-deps --no-binary "$name" -d "$work/pypi-$name" "$spec"
  mkdir -p "$work/unpack-$name"
  tar -xzf "$work/pypi-$name"/*.tar.gz -C "$work/unpack-$name"
  keep_sources "$(ls -d "$work/unpack-$name"/*)" "$dest"
done

for spec in "${npm[@]}"; do
  name="${spec%%@*}" version="${spec#*@}"
  dest="$out/js-$name-$version"
  [ -d "$dest" ] && continue
  mkdir -p "$work/npm-$name"
  (cd "$work/npm-$name" && npm pack -q --silent "$spec" > /dev/null)
  tar -xzf "$work/npm-$name"/*.tgz -C "$work/npm-$name"
  mv "$work/npm-$name/package" "$dest"
done

ls "$out"
# Corpora of versions no longer pinned here stay until removed by hand; the bench takes
# every corpus in the directory.
