#include "collectors/beam/sample_decoder.h"

namespace beam_exporter::beam {
namespace {

Status Bad(const std::string& item, const std::string& what) {
  return Status::InvalidArgument("unexpected reply for " + item + ": " + what);
}

// [{atom, integer}] -> map; non-integer values are skipped (e.g. logical_processors = unknown).
Status IntegerProplist(const Term& list, const std::string& item, std::map<std::string, int64_t>* out) {
  if (list.kind != Term::Kind::kList) return Bad(item, "expected a list");
  for (const Term& pair : list.items) {
    if (pair.kind != Term::Kind::kTuple || pair.items.size() != 2 || pair.items[0].kind != Term::Kind::kAtom) {
      return Bad(item, "expected {atom, value} pairs");
    }
    int64_t v = 0;
    if (pair.items[1].AsInt(&v)) (*out)[pair.items[0].text] = v;
  }
  return Status::Ok();
}

// statistics(run_queue_lengths_all): normal queues, then dirty CPU, then dirty IO.
Status RunQueues(const Term& t, int64_t schedulers, NodeSample* out) {
  if (t.kind != Term::Kind::kList) return Bad("run_queue_lengths_all", "expected a list");
  int64_t n = static_cast<int64_t>(t.items.size());
  if (n == schedulers + 2) {
    int64_t cpu = 0, io = 0;
    if (!t.items[n - 2].AsInt(&cpu) || !t.items[n - 1].AsInt(&io)) return Bad("run_queue_lengths_all", "not integers");
    out->dirty_cpu_run_queue = cpu;
    out->dirty_io_run_queue = io;
  }
  return Status::Ok();
}

Status SchedulerWallTime(const Term& t, NodeSample* out) {
  out->scheduler_wall_time.clear();
  if (t.IsAtom("undefined")) return Status::Ok();
  if (t.kind != Term::Kind::kList) return Bad("scheduler_wall_time", "expected a list or undefined");
  for (const Term& row : t.items) {
    SchedulerTime st;
    if (row.kind != Term::Kind::kTuple || row.items.size() != 3 || !row.items[0].AsText(&st.type) ||
        !row.items[1].AsDouble(&st.active) || !row.items[2].AsDouble(&st.total)) {
      return Bad("scheduler_wall_time", "expected {Type, Active, Total}");
    }
    out->scheduler_wall_time.push_back(std::move(st));
  }
  return Status::Ok();
}

Status SystemInfoTexts(const Term& list, NodeSample* out) {
  if (const Term* t = list.Find("otp_release")) t->AsText(&out->otp_release);
  if (const Term* t = list.Find("version")) t->AsText(&out->erts_version);
  return Status::Ok();
}

Status Basic(const Term& reply, NodeSample* out) {
  const Term* memory = reply.Find("memory");
  const Term* system_info = reply.Find("system_info");
  const Term* statistics = reply.Find("statistics");
  const Term* peers = reply.Find("dist_peers");
  if (!memory || !system_info || !statistics || !peers) return Bad("collect", "missing memory/system_info/statistics/dist_peers");
  Status s = IntegerProplist(*memory, "memory", &out->memory);
  if (s.ok()) s = IntegerProplist(*system_info, "system_info", &out->system_info);
  if (s.ok()) s = SystemInfoTexts(*system_info, out);
  if (!s.ok()) return s;
  if (statistics->kind != Term::Kind::kList) return Bad("statistics", "expected a list");
  for (const Term& pair : statistics->items) {
    if (pair.kind != Term::Kind::kTuple || pair.items.size() != 2 || pair.items[0].kind != Term::Kind::kAtom) {
      return Bad("statistics", "expected {atom, value} pairs");
    }
    const std::string& key = pair.items[0].text;
    if (key == "run_queue_lengths_all") {
      s = RunQueues(pair.items[1], out->system_info["schedulers"], out);
      if (!s.ok()) return s;
      continue;
    }
    int64_t v = 0;
    if (!pair.items[1].AsInt(&v)) return Bad("statistics", key + " is not an integer");
    out->statistics[key] = v;
  }
  if (!peers->AsInt(&out->connected_nodes)) return Bad("dist_peers", "not an integer");
  if (const Term* swt = reply.Find("scheduler_wall_time")) return SchedulerWallTime(*swt, out);
  return Status::Ok();
}

Status Mailboxes(const Term& hist, const Term& top, NodeSample* out) {
  // {{Count0, ..., Count7}, TotalMessages}
  if (hist.kind != Term::Kind::kTuple || hist.items.size() != 2 || hist.items[0].kind != Term::Kind::kTuple ||
      hist.items[0].items.size() != kMailboxBuckets || !hist.items[1].AsInt(&out->mailbox_messages)) {
    return Bad("mailbox_histogram", "expected {{8 counts}, Sum}");
  }
  for (size_t i = 0; i < kMailboxBuckets; ++i) {
    if (!hist.items[0].items[i].AsInt(&out->mailbox_buckets[i])) return Bad("mailbox_histogram", "count not an integer");
  }
  if (top.kind != Term::Kind::kList) return Bad("top_mailbox", "expected a list");
  for (const Term& row : top.items) {
    ProcessRow r;
    if (row.kind != Term::Kind::kTuple || row.items.size() != 6 || !row.items[0].AsText(&r.process) ||
        !row.items[1].AsText(&r.pid) || !row.items[2].AsInt(&r.message_queue_len) ||
        !row.items[3].AsInt(&r.memory_bytes) || !row.items[4].AsInt(&r.reductions) ||
        !row.items[5].AsText(&r.current_function)) {
      return Bad("top_mailbox", "expected {Name, Pid, Len, Memory, Reductions, Function}");
    }
    out->top_mailbox.push_back(std::move(r));
  }
  out->has_mailboxes = true;
  return Status::Ok();
}

Status TopMemory(const Term& top_memory, NodeSample* out) {
  if (top_memory.kind != Term::Kind::kList) return Bad("top_memory", "expected a list");
  for (const Term& row : top_memory.items) {
    MemoryRow r;
    if (row.kind != Term::Kind::kTuple || row.items.size() != 3 || !row.items[0].AsText(&r.process) ||
        !row.items[1].AsText(&r.pid) || !row.items[2].AsInt(&r.memory_bytes)) {
      return Bad("top_memory", "expected {Name, Pid, Memory}");
    }
    out->top_memory.push_back(std::move(r));
  }
  out->has_memory = true;
  return Status::Ok();
}

Status Groups(const Term& groups, NodeSample* out) {
  if (groups.kind != Term::Kind::kList) return Bad("groups", "expected a list");
  for (const Term& row : groups.items) {
    std::string name;
    int64_t count = 0;
    if (row.kind != Term::Kind::kTuple || row.items.size() != 2 || !row.items[0].AsText(&name) ||
        !row.items[1].AsInt(&count)) {
      return Bad("groups", "expected {Name, Count}");
    }
    out->groups.emplace_back(std::move(name), count);
  }
  out->has_groups = true;
  return Status::Ok();
}

Status Ets(const Term& ets, NodeSample* out) {
  // {[{Name, Owner, Type, Protection, Size, Bytes}], {OtherTables, OtherSize, OtherBytes}}
  if (ets.kind != Term::Kind::kTuple || ets.items.size() != 2 || ets.items[0].kind != Term::Kind::kList) {
    return Bad("ets", "expected {Rows, Other}");
  }
  for (const Term& row : ets.items[0].items) {
    EtsRow r;
    if (row.kind != Term::Kind::kTuple || row.items.size() != 6 || !row.items[0].AsText(&r.table) ||
        !row.items[1].AsText(&r.owner) || !row.items[2].AsText(&r.type) || !row.items[3].AsText(&r.protection) ||
        !row.items[4].AsInt(&r.size) || !row.items[5].AsInt(&r.memory_bytes)) {
      return Bad("ets", "expected {Name, Owner, Type, Protection, Size, Bytes}");
    }
    out->ets.push_back(std::move(r));
  }
  const Term& other = ets.items[1];
  if (other.kind != Term::Kind::kTuple || other.items.size() != 3 || !other.items[0].AsInt(&out->ets_other.tables) ||
      !other.items[1].AsInt(&out->ets_other.size) || !other.items[2].AsInt(&out->ets_other.memory_bytes)) {
    return Bad("ets", "expected {Tables, Size, Bytes} for the rest");
  }
  out->has_ets = true;
  return Status::Ok();
}

// The probe's own timers of a reply (optional): merged into out->probe_timings_us.
Status ProbeTimings(const Term& reply, NodeSample* out) {
  const Term* timings = reply.Find("probe_timings_us");
  return timings ? IntegerProplist(*timings, "probe_timings_us", &out->probe_timings_us) : Status::Ok();
}

}  // namespace

Status DecodeProbeReply(const Term& reply, NodeSample* out) {
  *out = NodeSample();
  if (reply.kind != Term::Kind::kList) return Bad("collect", "expected a proplist");
  Status s = Basic(reply, out);
  if (!s.ok()) return s;
  // Each scan's part is there only when the exporter asked for that scan this time.
  const Term* hist = reply.Find("mailbox_histogram");
  const Term* top = reply.Find("top_mailbox");
  if ((hist == nullptr) != (top == nullptr)) return Bad("collect", "mailbox_histogram and top_mailbox come together");
  if (hist) s = Mailboxes(*hist, *top, out);
  if (const Term* top_memory = reply.Find("top_memory"); s.ok() && top_memory) s = TopMemory(*top_memory, out);
  if (const Term* ets = reply.Find("ets"); s.ok() && ets) s = Ets(*ets, out);
  return s.ok() ? ProbeTimings(reply, out) : s;
}

Status DecodeGroupsReply(const Term& reply, NodeSample* out) {
  const Term* groups = reply.Find("groups");
  const Term* scanned = reply.Find("scanned");
  const Term* total = reply.Find("total");
  if (!groups || !scanned || !total || !scanned->AsInt(&out->groups_scanned) || !total->AsInt(&out->groups_total)) {
    return Bad("groups", "expected groups, scanned and total");
  }
  out->groups.clear();
  Status s = Groups(*groups, out);
  return s.ok() ? ProbeTimings(reply, out) : s;
}

const std::vector<BifCall>& BifCalls() {
  static const std::vector<BifCall> calls = [] {
    std::vector<BifCall> v = {{"memory", "erlang", "memory", ""}, {"nodes", "erlang", "nodes", "connected"}};
    for (const char* k : {"process_count", "process_limit", "port_count", "port_limit", "atom_count", "atom_limit",
                          "ets_count", "ets_limit", "schedulers", "schedulers_online", "dirty_cpu_schedulers",
                          "dirty_cpu_schedulers_online", "dirty_io_schedulers", "logical_processors", "otp_release",
                          "version", "wordsize"}) {
      v.push_back({std::string("system_info:") + k, "erlang", "system_info", k});
    }
    for (const char* k : {"run_queue", "run_queue_lengths_all", "reductions", "context_switches", "garbage_collection",
                          "io", "runtime", "wall_clock"}) {
      v.push_back({std::string("statistics:") + k, "erlang", "statistics", k});
    }
    return v;
  }();
  return calls;
}

Status DecodeBifReplies(const std::map<std::string, Term>& replies, NodeSample* out) {
  *out = NodeSample();
  auto get = [&](const std::string& key) -> const Term* {
    auto it = replies.find(key);
    return it == replies.end() ? nullptr : &it->second;
  };
  // Rebuild the probe's basic proplist from the individual replies, then decode it the same way.
  auto pair = [](const std::string& key, Term value) {
    Term k;
    k.kind = Term::Kind::kAtom;
    k.text = key;
    Term t;
    t.kind = Term::Kind::kTuple;
    t.items = {std::move(k), std::move(value)};
    return t;
  };
  auto integer = [](int64_t v) {
    Term t;
    t.kind = Term::Kind::kInteger;
    t.integer = v;
    return t;
  };
  // First element of a tuple reply such as {Total, SinceLastCall}.
  auto first = [&](const std::string& name, int index, int64_t* v) -> Status {
    const Term* t = get("statistics:" + name);
    if (!t || t->kind != Term::Kind::kTuple || static_cast<int>(t->items.size()) <= index ||
        !t->items[index].AsInt(v)) {
      return Bad("statistics(" + name + ")", "expected a tuple of integers");
    }
    return Status::Ok();
  };

  Term reply;
  reply.kind = Term::Kind::kList;
  const Term* memory = get("memory");
  const Term* nodes = get("nodes");
  if (!memory || !nodes || nodes->kind != Term::Kind::kList) return Bad("memory/nodes", "missing");
  reply.items.push_back(pair("memory", *memory));
  reply.items.push_back(pair("dist_peers", integer(static_cast<int64_t>(nodes->items.size()))));

  Term system_info;
  system_info.kind = Term::Kind::kList;
  Term statistics;
  statistics.kind = Term::Kind::kList;
  for (const BifCall& call : BifCalls()) {
    const Term* t = get(call.key);
    if (!t) return Bad(call.key, "missing");
    if (call.function == "system_info") system_info.items.push_back(pair(call.atom_arg, *t));
  }
  for (const char* k : {"run_queue", "run_queue_lengths_all"}) {
    statistics.items.push_back(pair(k, *get(std::string("statistics:") + k)));
  }
  struct Item {
    const char* key;
    const char* call;
    int index;
  };
  for (const Item& item : {Item{"reductions", "reductions", 0}, Item{"context_switches", "context_switches", 0},
                           Item{"gc_count", "garbage_collection", 0}, Item{"gc_words_reclaimed", "garbage_collection", 1},
                           Item{"runtime_ms", "runtime", 0}, Item{"wall_clock_ms", "wall_clock", 0}}) {
    int64_t v = 0;
    Status s = first(item.call, item.index, &v);
    if (!s.ok()) return s;
    statistics.items.push_back(pair(item.key, integer(v)));
  }
  // statistics(io) = {{input, In}, {output, Out}}
  const Term* io = get("statistics:io");
  int64_t in = 0, output = 0;
  if (io->kind != Term::Kind::kTuple || io->items.size() != 2 || io->items[0].kind != Term::Kind::kTuple ||
      io->items[0].items.size() != 2 || !io->items[0].items[1].AsInt(&in) || io->items[1].kind != Term::Kind::kTuple ||
      io->items[1].items.size() != 2 || !io->items[1].items[1].AsInt(&output)) {
    return Bad("statistics(io)", "expected {{input, N}, {output, N}}");
  }
  statistics.items.push_back(pair("io_input_bytes", integer(in)));
  statistics.items.push_back(pair("io_output_bytes", integer(output)));
  reply.items.push_back(pair("system_info", std::move(system_info)));
  reply.items.push_back(pair("statistics", std::move(statistics)));
  return Basic(reply, out);
}

}  // namespace beam_exporter::beam
