# The native floor for bench/run.ts: Python's pty + select(), no framework. Prints one JSON object.
#   python3 bench/floor.py ROUNDS FLOOD_BYTES IDLE_SECONDS
import json, os, pty, re, resource, select, statistics, sys, time

rounds, flood_bytes, idle_seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
CSI = re.compile(rb"\x1b\[[0-9;?]*[a-zA-Z]")
env = dict(os.environ, PS1="$ ", PROMPT_COMMAND="", TERM="xterm-256color")


def spawn(argv):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    return pid, fd


def read_until(fd, needle, keep=4096):
    buf = b""
    while needle not in buf:
        select.select([fd], [], [])
        buf = CSI.sub(b"", buf + os.read(fd, 65536))[-keep:]  # bash's bracketed-paste toggles
    return buf


def close(pid, fd):
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(fd)


out = {}
# M1: echo round trip at a bash prompt.
pid, fd = spawn(["bash", "--norc", "--noprofile"])
read_until(fd, b"$ ")
times = []
for i in range(rounds):
    t = time.perf_counter()
    os.write(fd, b"echo r%d\r" % i)
    read_until(fd, b"r%d\r\n$ " % i)
    times.append((time.perf_counter() - t) * 1000)
out["M1_ms"] = statistics.median(times)

# M2: a marker the program stamps with its own clock, to select() returning with it.
lat = []
for i in range(rounds // 2):
    p2, f2 = spawn(["bash", "-c", "sleep 0.05; echo STAMP $(date +%s%N)"])
    buf = b""
    while b"\r\n" not in buf.partition(b"STAMP ")[2]:
        select.select([f2], [], [])
        buf += os.read(f2, 65536)
    now = time.time_ns()
    stamp = int(buf.partition(b"STAMP ")[2].split(b"\r\n")[0])
    lat.append((now - stamp) / 1e6)
    os.waitpid(p2, 0)
    os.close(f2)
out["M2_ms"] = statistics.median(lat)

# M3: CPU of a process blocked in select() on an idle pty.
before = resource.getrusage(resource.RUSAGE_SELF)
select.select([fd], [], [], idle_seconds)
after = resource.getrusage(resource.RUSAGE_SELF)
out["M3_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

# M4: a flood drained as fast as select()/read() can.
flood = "head -c %d /dev/zero | tr '\\0' x | fold -w 99; echo; echo FLOOD_DONE\r" % flood_bytes
before = resource.getrusage(resource.RUSAGE_SELF)
t = time.perf_counter()
os.write(fd, flood.encode())
read_until(fd, b"\r\nFLOOD_DONE\r\n")
out["M4_s"] = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_SELF)
out["M4_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
close(pid, fd)
print(json.dumps(out))
