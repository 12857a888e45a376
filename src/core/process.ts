/**
 * Which process wrote something, and whether it is still alive: the host
 * name, the pid and the pid's start time (so a reused pid is not mistaken
 * for the writer). Read from /proc (Linux); where /proc is not readable the
 * answer is "unknown" and callers leave the record alone.
 */

export interface ProcessIdentity {
  host: string;
  pid: number;
  /** the kernel's start time of the pid (field 22 of /proc/<pid>/stat), or "" */
  started: string;
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function startTicks(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // the command name (field 2) may hold spaces; the fields after its ")" are plain
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19]; // field 22 overall
}

let self: ProcessIdentity | undefined;

export function currentProcess(): ProcessIdentity {
  self ??= {
    host: readText("/proc/sys/kernel/hostname")?.trim() || "unknown",
    pid: Deno.pid,
    started: startTicks(Deno.pid) ?? "",
  };
  return self;
}

/**
 * true: the process is running; false: it has ended (on this host);
 * undefined: cannot tell (another host, or /proc not readable).
 */
export function isProcessAlive(p: ProcessIdentity): boolean | undefined {
  const me = currentProcess();
  if (p.host !== me.host || me.started === "") return undefined;
  if (p.pid === me.pid && p.started === me.started) return true;
  const ticks = startTicks(p.pid);
  if (ticks === undefined) return false;
  return p.started === "" ? true : ticks === p.started;
}
