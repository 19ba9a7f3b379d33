"""The ratio table every bench/run_*.sh prints: ckeras, each peer's column
(bench/peers.sh's ALL_PEERS; n/a where a peer is missing), the fastest peer
and best-peer/ckeras (above 1: ckeras is faster; for times the peer's time over
ckeras's, for throughputs ckeras's over the peer's). Lines are "name value
unit"; a name seen in several rounds keeps its best value; "#" lines are notes."""
import math

PEERS = [("keras", "keras-jax"), ("kerastf", "keras-tf"), ("torch", "torch1.13"), ("torch2", "torch2"),
         ("ort", "ort"), ("litert", "litert")]
NAN = float("nan")


def load(*paths, higher_is_better=lambda name: False):
    d = {}
    for p in paths:
        try:
            lines = open(p).read().splitlines()
        except FileNotFoundError:
            continue
        for line in lines:
            f = line.split()
            if len(f) < 3 or line.startswith("#"):
                continue
            try:
                v = float(f[1])
            except ValueError:
                continue
            keep = max if higher_is_better(f[0]) else min
            d[f[0]] = keep(v, d[f[0]]) if f[0] in d else v
    return d


def higher(name):
    """Whether a larger value of this measurement is better (a throughput)."""
    return name.endswith("throughput")


def by_isa(peers_path, ckeras_paths):
    """(ISA, ckeras's values, the peers' values) for each ckeras-ISA.txt file
    that a run_*.sh wrote, one per kernel path it timed."""
    p = load(peers_path, higher_is_better=higher)
    for path in ckeras_paths:
        yield path.rsplit("-", 1)[1][:-len(".txt")], load(path, higher_is_better=higher), p


def fmt(v, w=10, f="%.4g"):
    return ("%" + str(w) + "s") % (f % v if v == v else "n/a")


def best_peer(values, peer_key, higher):
    """(value, peer column name) of the fastest peer for one row, or (nan, '-')."""
    got = [(values.get(pre + "_" + peer_key, NAN), name) for pre, name in PEERS]
    got = [g for g in got if not math.isnan(g[0])]
    if not got:
        return NAN, "-"
    return (max if higher else min)(got)


def print_table(title, ck, peers, rows, ck_prefix="", peer_prefix=""):
    """rows: (label, key, higher_is_better); ck's key is ck_prefix + key, a
    peer's is peer_prefix + its prefix + "_" + key (run_train.sh's "t1 ")."""
    try:
        load = " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        load = "n/a"
    print("\n%s [load average at the end: %s]" % (title, load))
    head = "%-30s %10s " % ("", "ckeras") + " ".join("%10s" % n for _, n in PEERS)
    print(head + " %10s %12s" % ("best peer", "best/ckeras"))
    for label, key, higher in rows:
        c = ck.get(ck_prefix + key, NAN)
        vals = [peers.get(peer_prefix + pre + "_" + key, NAN) for pre, _ in PEERS]
        b, who = best_peer({k[len(peer_prefix):]: v for k, v in peers.items() if k.startswith(peer_prefix)},
                           key, higher)
        ratio = (c / b if higher else b / c) if b == b and c == c else NAN
        print("%-30s %s " % (label, fmt(c)) + " ".join(fmt(v) for v in vals) + " %10s %12s" % (who, fmt(ratio, 12, "%.2fx")))
