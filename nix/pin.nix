# The default nixpkgs: one nixos-25.11 revision, fetched by hash (nothing here reads NIX_PATH).
#
# Source: nixos-25.11 at 1267bb4920d0 (committed 2026-02-25T19:16:40Z, lastModified 1772047000).
# The hash is the `narHash` that public flake.lock files record for this revision
# (github:NixOS/nixpkgs, "ref": "nixos-25.11"); a flake's github narHash is the NAR hash of the
# unpacked tarball, which is exactly what fetchTarball's sha256 checks. An independent
# fetchFromGitHub pin of the same revision (sha256 0sjac485rc346hpj5dvidh3lqdlq5lp7y7glicibgxqizrb90dpc)
# converts to the same value with `nix hash to-sri --type sha256`.
#
# To bump: pick a revision the nixos-25.11 (or a newer stable) channel has reached, e.g. from
# https://channels.nixos.org/nixos-25.11/git-revision or `nix flake metadata github:NixOS/nixpkgs/nixos-25.11`
# (which prints the revision, its narHash and lastModified), then update the values below.
# With only the revision known, `nix-prefetch-url --unpack <url>` prints the hash (base32; convert
# with `nix hash to-sri --type sha256 <hash>`), or build once with a wrong hash and copy the right
# one from the "hash mismatch" error.
rec {
  # The nixpkgs git revision.
  rev = "1267bb4920d0fc06ea916734c11b0bf004bbe17e";
  # NAR hash (SRI) of the unpacked GitHub tarball of `rev`.
  narHash = "sha256-7DaQVv4R97cii/Qdfy4tmDZMB2xxtyIvNGSwXBBhSmo=";
  # Commit date of `rev` (UTC, YYYYMMDD): with it the image reports the version the nixpkgs flake
  # would give this revision, e.g. "25.11.20260225.1267bb4", instead of "25.11pre-git".
  lastModifiedDate = "20260225";
  # The branch `rev` comes from. The fixture image (test/fixtures/image) takes its release from it.
  branch = "nixos-25.11";

  # The unpacked source. Fetched lazily: argument checks in default.nix run before this is forced.
  # The default store name "source" matches what flakes use, so an existing fetch is reused.
  src = builtins.fetchTarball {
    url = "https://github.com/NixOS/nixpkgs/archive/${rev}.tar.gz";
    sha256 = narHash;
  };
}
