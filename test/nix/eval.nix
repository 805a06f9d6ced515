# Evaluates nix/module.nix the way NixOS would, without NixOS: nixpkgs' lib.evalModules over the module, the
# host fixture, and bare declarations of the NixOS options the module sets (systemd.*, users.users,
# environment.etc, assertions). Run by test/unit/nix-module.test.ts with nix-instantiate --eval --strict --json:
#   --arg lib <nixpkgs>/lib   --arg host ./fixtures/doc1.nix   --argstr package /path/with/bin
# NixOS's `pkgs` is a stub holding only what the module takes from it (curl: a directory with bin/curl).
# Returns the failed assertions (as NixOS would refuse them), the generated config text and every unit as the
# text NixOS would write (rendered here the same simple way: one Key=value a line, lists repeated).
{ lib, host, package, coreutils ? "/usr", runuser ? "/usr/sbin/runuser", curl ? "/usr" }:
let
  inherit (lib) mkOption types;
  unitOptions = {
    options = {
      description = mkOption { type = types.str; default = ""; };
      wants = mkOption { type = types.listOf types.str; default = [ ]; };
      after = mkOption { type = types.listOf types.str; default = [ ]; };
      requires = mkOption { type = types.listOf types.str; default = [ ]; };
      wantedBy = mkOption { type = types.listOf types.str; default = [ ]; };
      restartTriggers = mkOption { type = types.listOf types.unspecified; default = [ ]; };
      serviceConfig = mkOption { type = types.attrsOf types.unspecified; default = { }; };
      socketConfig = mkOption { type = types.attrsOf types.unspecified; default = { }; };
      timerConfig = mkOption { type = types.attrsOf types.unspecified; default = { }; };
    };
  };
  units = mkOption { type = types.attrsOf (types.submodule unitOptions); default = { }; };
  nixosStubs = {
    options = {
      assertions = mkOption { type = types.listOf types.unspecified; default = [ ]; };
      environment.etc = mkOption { type = types.attrsOf (types.submodule { options.text = mkOption { type = types.str; }; }); default = { }; };
      users.users = mkOption { type = types.attrsOf (types.submodule { options.linger = mkOption { type = types.bool; default = false; }; }); default = { }; };
      systemd.services = units;
      systemd.user.services = units;
      systemd.user.sockets = units;
      systemd.user.timers = units;
    };
  };
  evaluated = lib.evalModules {
    modules = [
      ../../nix/module.nix
      nixosStubs
      host
      { services.stackd = { inherit package coreutils runuser; }; }
      { _module.args.pkgs = { inherit curl; }; }
    ];
  };
  cfg = evaluated.config;

  value = v: if builtins.isBool v then (if v then "yes" else "no") else toString v;
  lines = attrs: lib.concatStrings (lib.concatLists (lib.mapAttrsToList
    (k: v: map (x: "${k}=${value x}\n") (if builtins.isList v then v else [ v ]))
    (lib.filterAttrs (_: v: v != [ ] && v != "") attrs)));
  render = kind: u: ''
    [Unit]
    ${lines { Description = u.description; Wants = u.wants; After = u.after; Requires = u.requires; }}
    [${kind}]
    ${lines ({ Socket = u.socketConfig; Timer = u.timerConfig; }.${kind} or u.serviceConfig)}
    [Install]
    ${lines { WantedBy = u.wantedBy; }}'';
in
{
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) cfg.assertions);
  config = cfg.environment.etc."stackd/stackd.json".text or null;
  configPath = cfg.services.stackd.configPath;
  linger = lib.mapAttrs (_: u: u.linger) cfg.users.users;
  userUnits = lib.mapAttrs' (n: u: lib.nameValuePair "${n}.service" (render "Service" u)) cfg.systemd.user.services
    // lib.mapAttrs' (n: u: lib.nameValuePair "${n}.socket" (render "Socket" u)) cfg.systemd.user.sockets
    // lib.mapAttrs' (n: u: lib.nameValuePair "${n}.timer" (render "Timer" u)) cfg.systemd.user.timers;
  systemUnits = lib.mapAttrs' (n: u: lib.nameValuePair "${n}.service" (render "Service" u)) cfg.systemd.services;
  restartTriggers = lib.mapAttrs (_: u: map toString u.restartTriggers) (cfg.systemd.user.services // cfg.systemd.services);
}
