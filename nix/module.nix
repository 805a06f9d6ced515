# NixOS module for stackd: one rootless user daemon that supervises this host's compose stacks.
#
#   services.stackd = {
#     enable = true;
#     user = "abl030"; uid = 1000;
#     package = pkgs.stackd;              # anything with bin/stackd and bin/stackctl
#     stacks.immich = { compose = [ ./stacks/immich/docker-compose.yml ]; envFiles = [ "/run/user/1000/secrets/immich.env" ]; };
#     enabledStacks = [ "immich" ];       # what hosts.nix's containerStacks was; unknown names fail evaluation
#     secrets.immich = { envFiles."immich.env" = "sops --decrypt /etc/stacks/immich.env.sops"; dataDirs = [ "/mnt/docker/immich" ]; };
#     settings.notify = [ { gotify = { url = "https://gotify.example"; tokenFile = "/run/user/1000/secrets/gotify.token"; }; } ];
#   };
#
# It writes stackd's config as JSON (which is YAML) to a stable path stackd re-reads when it changes, installs
# the user units stackd.socket / stackd.service, one thin user unit per enabled stack (it only asks stackd, with
# one curl over the API socket that holds until the verdict: no node process per stack at a rebuild), and per stack with secrets a root `<stack>-secrets.service` that decrypts the env
# files into /run/user/<uid>/secrets (0600), creates the data dirs and bounces the stack's user unit. A rebuild
# that changes a compose or secrets file restarts that stack's units (restartTriggers); nothing else restarts.
{ config, lib, pkgs, ... }:
let
  inherit (lib) mkOption mkEnableOption mkIf types;
  cfg = config.services.stackd;
  runtimeDir = "/run/user/${toString cfg.uid}";
  # where stackd.socket listens; %t is the user manager's runtime dir
  apiSocket = "%t/stackd/stackd.sock";
  secretsDir = "${runtimeDir}/secrets";
  unitBase = unit: lib.removeSuffix ".service" unit;
  enabled = lib.filterAttrs (name: _: lib.elem name cfg.enabledStacks) cfg.stacks;
  unknown = lib.filter (name: !(cfg.stacks ? ${name})) cfg.enabledStacks;
  unknownSecrets = lib.filter (name: !(cfg.stacks ? ${name})) (lib.attrNames cfg.secrets);
  known = lib.concatStringsSep ", " (lib.attrNames cfg.stacks);
  bin = name: "${cfg.package}/bin/${name}";

  stackOptions = { name, ... }: {
    options = {
      compose = mkOption { type = types.nonEmptyListOf types.path; description = "Compose files, in order (-f each)."; };
      envFiles = mkOption { type = types.listOf types.str; default = [ ]; description = "Env files (--env-file each), e.g. the ones a secrets unit writes."; };
      project = mkOption { type = types.nullOr types.str; default = null; description = "Compose project name; keep the running one so volumes and networks carry over. Default: the stack name."; };
      unit = mkOption { type = types.str; default = "${name}.service"; description = "The user unit that owns the stack; every PODMAN_SYSTEMD_UNIT label must name it."; };
      update = mkOption { type = types.nullOr (types.enum [ "off" "monitor" "apply" ]); default = null; description = "Registry updates for this stack (default: settings.update.mode)."; };
      repair = mkOption { type = types.nullOr (types.enum [ "none" "reconcile" ]); default = null; description = "What a dead or unhealthy container does (default: settings.defaults.repair)."; };
      startupTimeout = mkOption { type = types.nullOr types.str; default = null; description = "How long one compose run may take, e.g. \"10m\"."; };
      envWait = mkOption { type = types.nullOr types.str; default = null; description = "How long to wait for the env files to appear."; };
      healthWindow = mkOption { type = types.nullOr types.str; default = null; description = "How long health is watched after a deploy."; };
    };
  };

  secretsOptions = {
    options = {
      envFiles = mkOption {
        type = types.attrsOf types.str;
        default = { };
        description = "File name under /run/user/<uid>/secrets → the command that prints its decrypted content (run by root, e.g. `sops --decrypt …`).";
      };
      sources = mkOption { type = types.listOf types.path; default = [ ]; description = "The encrypted files: a change restarts the secrets unit."; };
      dataDirs = mkOption { type = types.listOf types.str; default = [ ]; description = "Directories the stack's volumes live in, created owned by the user."; };
    };
  };

  stackJson = name: s: lib.filterAttrs (_: v: v != null) {
    inherit name;
    compose = map toString s.compose;
    envFiles = if s.envFiles == [ ] then null else s.envFiles;
    inherit (s) project unit update repair startupTimeout envWait healthWindow;
  };

  configJson = lib.recursiveUpdate cfg.settings { stacks = lib.mapAttrsToList stackJson enabled; };
  configFile = "stackd/stackd.json";

  # One request to stackd that holds until the verdict or the wait (systemd/example-stack.service says why and
  # what the journal shows): 200 ok, 502 failed, 504 still running; --fail-with-body fails the unit with stackd's
  # line. curl gives up 30 s after the wait, systemd a minute after it, so stackd's line comes first.
  curlCall = name: action: waitSec:
    "${cfg.curl}/bin/curl --silent --show-error --fail-with-body --no-buffer --max-time ${toString (waitSec + 30)}"
    + " --unix-socket ${apiSocket} -H \"Accept: text/plain\" -X POST http://stackd/v1/stacks/${name}/${action}?wait=${toString (waitSec * 1000)}";

  stackUnit = name: s: lib.nameValuePair (unitBase s.unit) {
    description = "compose stack \"${name}\", supervised by stackd";
    wants = [ "stackd.service" ];
    after = [ "stackd.service" ];
    wantedBy = [ "default.target" ];
    restartTriggers = s.compose ++ [ (builtins.toJSON (stackJson name s)) ];
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
      TimeoutStartSec = "16min";
      ExecStart = curlCall name "up" 900;
      ExecReload = curlCall name "up" 900;
      ExecStop = curlCall name "stop" 300;
      TimeoutStopSec = "6min";
    };
  };

  secretsUnit = name: sec:
    let
      s = cfg.stacks.${name};
      user = lib.escapeShellArg cfg.user;
      decrypt = file: cmd: "/bin/sh -c ${lib.escapeShellArg "umask 077; ${cmd} > ${secretsDir}/${file}"}";
    in
    lib.nameValuePair "${name}-secrets" {
      description = "decrypt secrets of stack \"${name}\" for user ${cfg.user}";
      after = [ "user@${toString cfg.uid}.service" ];
      requires = [ "user@${toString cfg.uid}.service" ];
      wantedBy = [ "multi-user.target" ];
      restartTriggers = sec.sources ++ s.compose;
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart =
          [ "${cfg.coreutils}/bin/install -d -m 0700 -o ${user} -g ${user} ${secretsDir}" ]
          ++ map (d: "${cfg.coreutils}/bin/install -d -m 0750 -o ${user} -g ${user} ${lib.escapeShellArg d}") sec.dataDirs
          ++ lib.mapAttrsToList decrypt sec.envFiles
          ++ lib.mapAttrsToList (file: _: "${cfg.coreutils}/bin/chown ${user}:${user} ${secretsDir}/${file}") sec.envFiles;
        # --no-block: the bounce only asks; stackd serializes the work through its queue
        ExecStartPost = "${cfg.runuser} -u ${user} -- env XDG_RUNTIME_DIR=${runtimeDir} systemctl --user reload-or-restart --no-block ${s.unit}";
      };
    };
in
{
  options.services.stackd = {
    enable = mkEnableOption "stackd, the rootless supervisor of this host's compose stacks";
    user = mkOption { type = types.str; description = "The user whose rootless podman runs the stacks (and stackd)."; };
    uid = mkOption { type = types.ints.positive; description = "That user's uid (for /run/user/<uid>)."; };
    package = mkOption { type = types.path; description = "The stackd package (bin/stackd, bin/stackctl)."; };
    curl = mkOption {
      type = types.path;
      default = pkgs.curl;
      defaultText = lib.literalExpression "pkgs.curl";
      description = "Where bin/curl comes from: the stack units ask stackd's socket with it.";
    };
    coreutils = mkOption { type = types.path; default = "/run/current-system/sw"; description = "Where bin/install and bin/chown come from."; };
    runuser = mkOption { type = types.str; default = "/run/current-system/sw/bin/runuser"; description = "The runuser binary the secrets units bounce through."; };
    settings = mkOption {
      type = types.attrsOf types.anything;
      default = { };
      description = "stackd's config (README: configuration) except `stacks`, merged as given; e.g. queue, update, notify.";
    };
    stacks = mkOption { type = types.attrsOf (types.submodule stackOptions); default = { }; description = "Every stack this configuration knows."; };
    enabledStacks = mkOption {
      type = types.listOf types.str;
      default = lib.attrNames cfg.stacks;
      description = "The stacks this host runs (a host's containerStacks); an unknown name fails evaluation.";
    };
    secrets = mkOption { type = types.attrsOf (types.submodule secretsOptions); default = { }; description = "Per stack: the env files a root unit decrypts, and its data dirs."; };
    updateTimer = mkOption {
      type = types.bool;
      default = true;
      description = "Install stackd-update.timer (daily, 15-minute random delay): `stackctl update`. Disable podman-auto-update.timer when it runs.";
    };
    configPath = mkOption { type = types.str; default = "/etc/${configFile}"; readOnly = true; description = "Where the generated config is (stackd --config)."; };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = unknown == [ ];
        message = "services.stackd.enabledStacks: unknown stack name(s) ${lib.concatStringsSep ", " unknown}; known stacks: ${known}";
      }
      {
        assertion = unknownSecrets == [ ];
        message = "services.stackd.secrets: no stack named ${lib.concatStringsSep ", " unknownSecrets}; known stacks: ${known}";
      }
    ];

    environment.etc.${configFile}.text = builtins.toJSON configJson;

    users.users.${cfg.user}.linger = true;

    systemd.user.sockets.stackd = {
      description = "stackd API socket";
      wantedBy = [ "sockets.target" ];
      socketConfig = { ListenStream = apiSocket; SocketMode = "0600"; DirectoryMode = "0700"; RemoveOnStop = true; };
    };

    systemd.user.services = {
      stackd = {
        description = "stackd: supervisor for this user's compose stacks on rootless podman";
        requires = [ "stackd.socket" ];
        after = [ "stackd.socket" "podman.socket" ];
        wants = [ "podman.socket" ];
        wantedBy = [ "default.target" ];
        # stackd re-reads the config itself when it changes; a new package restarts it
        restartTriggers = [ cfg.package ];
        serviceConfig = {
          # READY=1 once the state is loaded and podman answers; WATCHDOG=1 from the event loop (a wedged
          # stackd is restarted). systemd-notify sends them, hence NotifyAccess=all.
          Type = "notify";
          NotifyAccess = "all";
          TimeoutStartSec = "2min";
          WatchdogSec = "60s";
          TimeoutAbortSec = "30s";
          ExecStart = "${bin "stackd"} --config ${cfg.configPath}";
          KillMode = "mixed";
          TimeoutStopSec = 330;
          Restart = "on-failure";
          RestartSec = "5s";
          # NODE_OPTIONS: V8's young generation capped at 1 MB semi-spaces, as in systemd/stackd.service (why there)
          Environment = [ "PODMAN_IGNORE_CGROUPSV1_WARNING=1" "NODE_OPTIONS=--max-semi-space-size=1" ];
        };
      };
    } // lib.optionalAttrs cfg.updateTimer {
      stackd-update = {
        description = "stackd: registry updates of the compose stacks (pull by digest, health gate, rollback)";
        wants = [ "stackd.service" ];
        after = [ "stackd.service" ];
        # stackctl, not curl: it prints the update table and follows a run of hours, once a day
        serviceConfig = { Type = "oneshot"; ExecStart = "${bin "stackctl"} update"; TimeoutStartSec = "2h"; };
      };
    } // lib.mapAttrs' stackUnit enabled;

    systemd.user.timers = lib.optionalAttrs cfg.updateTimer {
      stackd-update = {
        description = "stackd: daily registry updates";
        wantedBy = [ "timers.target" ];
        timerConfig = { OnCalendar = "daily"; RandomizedDelaySec = 900; AccuracySec = "1us"; Persistent = true; };
      };
    };

    systemd.services = lib.mapAttrs' secretsUnit (lib.filterAttrs (name: _: cfg.stacks ? ${name}) cfg.secrets);
  };
}
