%% beam_exporter_probe: loaded onto the monitored node by beam_exporter (code:load_binary/3)
%% and called over RPC. It scans the node locally and returns only summaries and top-N rows,
%% so one collection costs one round trip and a few KB on the wire whatever the process count.
%%
%% Rules this module keeps (see docs/metrics.md):
%%  - read-only: it never sends to, links to, or changes application processes or tables;
%%    the only side effect is the holder process that keeps scheduler_wall_time on while
%%    the exporter is connected (the flag is tied to the process that enabled it).
%%  - bounded: the caller passes the row limits and says which scans to run (it spaces them to
%%    keep within its cpu_budget, by their on-node times reported here); each scan is one pass
%%    over processes() or ets:all(). The mailbox and memory passes read only items ERTS answers
%%    without involving the process (message_queue_len, heap_size: ~0.12 us each at 100k here).
%%    Items that make the target process handle a signal (memory, current_function, dictionary:
%%    1.7-2.8 us each) are read only for the few candidate rows, or for every process in the
%%    group pass, which also stops at a time limit.
%%  - no atoms are created from caller input (group modules are looked up as existing atoms).
-module(beam_exporter_probe).

-export([vsn/0, collect/1, groups/1, start_holder/1, stop_holder/1]).

%% PROBE_VSN is set by the build to a digest of this file, so a changed probe is reloaded.
-ifndef(PROBE_VSN).
-define(PROBE_VSN, "dev").
-endif.

vsn() -> list_to_binary(?PROBE_VSN).

%% ---------------------------------------------------------------------------------------
%% scheduler_wall_time holder

%% Enables scheduler_wall_time for as long as the exporter's connection (node CNode) is up.
%% The flag is reference-counted per process and dropped when the holder exits, which happens
%% on stop_holder/1 (clean disconnect) or when the connection to CNode goes down.
start_holder(CNode) when is_atom(CNode) ->
    Parent = self(),
    Pid = spawn(fun() -> holder_init(Parent, CNode) end),
    receive {Pid, ready} -> Pid after 5000 -> exit(Pid, kill), {error, holder_timeout} end.

holder_init(Parent, CNode) ->
    erlang:monitor_node(CNode, true),
    erlang:system_flag(scheduler_wall_time, true),
    Parent ! {self(), ready},
    receive
        {nodedown, CNode} -> ok;
        stop -> ok
    end.

stop_holder(Pid) when is_pid(Pid) ->
    Pid ! stop,
    ok.

%% ---------------------------------------------------------------------------------------
%% collection

%% One collection: the basics (always) and the scans the exporter asks for this time, each timed
%% on the node so the exporter can keep them all within its cpu_budget (docs/metrics.md).
%% Opts: #{top_n => N, ets_top_n => M, scans => [mailboxes | memory | ets],
%% memory_slice => {Phase, Slices}, memory_pids => [PidText]} (the slice and the pids to re-read:
%% see memory_scan/4). The mailbox and memory scans share one processes() list; each is charged
%% the time of that call, so the charge never falls short of the node time spent.
collect(Opts) ->
    T0 = erlang:monotonic_time(microsecond),
    Scans = maps:get(scans, Opts, [mailboxes, memory, ets]),
    TopN = maps:get(top_n, Opts, 10),
    Basic = basic(),
    T1 = erlang:monotonic_time(microsecond),
    Pids = case lists:member(mailboxes, Scans) orelse lists:member(memory, Scans) of
               true -> erlang:processes();
               false -> []
           end,
    ListTime = erlang:monotonic_time(microsecond) - T1,
    Mailboxes = timed(mailboxes, Scans, ListTime, fun() -> mailbox_scan(Pids, TopN) end),
    Memory = timed(memory, Scans, ListTime,
                   fun() -> memory_scan(Pids, TopN, maps:get(memory_slice, Opts, {0, 1}),
                                        local_pids(maps:get(memory_pids, Opts, [])))
                   end),
    Ets = timed(ets, Scans, 0, fun() -> ets_tables(maps:get(ets_top_n, Opts, 50)) end),
    Parts = [Part || {Part, _} <- [Mailboxes, Memory, Ets], Part =/= none],
    Timings = [Timing || {_, Timing} <- [Mailboxes, Memory, Ets], Timing =/= none],
    T2 = erlang:monotonic_time(microsecond),
    Basic ++ lists:append(Parts) ++
        [{probe_timings_us, [{basic, T1 - T0} | Timings] ++ [{total, T2 - T0}]}].

%% {ReplyItems, {Scan, Microseconds}} when Scan is asked for (Extra: its share of common work),
%% else {none, none}.
timed(Scan, Scans, Extra, Fun) ->
    case lists:member(Scan, Scans) of
        true ->
            T0 = erlang:monotonic_time(microsecond),
            Items = Fun(),
            {Items, {Scan, Extra + erlang:monotonic_time(microsecond) - T0}};
        false -> {none, none}
    end.

%% The group pass: live processes counted by what they run. Telling a GenServer's module needs
%% its '$initial_call' from the dictionary (and current_function for processes that switched
%% module), both items that wake every process, so it is the costliest scan the exporter spaces
%% within its cpu_budget, and the pass stops when its time budget is spent (scanned < total in the
%% reply) so that it always answers within the caller's RPC timeout.
%% Opts: #{budget_ms => Ms, groups => [{Name, [Module], [Label], [{Function, Arity}], [HostsOf]}]}
%% (binaries).
groups(Opts) ->
    T0 = erlang:monotonic_time(microsecond),
    Deadline = erlang:monotonic_time(millisecond) + maps:get(budget_ms, Opts, 1000),
    Pids = erlang:processes(),
    {Groups, Scanned} = group_pass(Pids, group_table(maps:get(groups, Opts, [])), Deadline),
    T1 = erlang:monotonic_time(microsecond),
    [{groups, Groups}, {scanned, Scanned}, {total, length(Pids)}, {probe_timings_us, [{groups, T1 - T0}]}].

%% The same items the exporter reads with plain BIF calls when the probe is not loaded.
basic() ->
    {Reductions, _} = erlang:statistics(reductions),
    {ContextSwitches, _} = erlang:statistics(context_switches),
    {Gcs, WordsReclaimed, _} = erlang:statistics(garbage_collection),
    {{input, In}, {output, Out}} = erlang:statistics(io),
    {Runtime, _} = erlang:statistics(runtime),
    {WallClock, _} = erlang:statistics(wall_clock),
    [{memory, erlang:memory()},
     {system_info, [{K, erlang:system_info(K)} || K <- system_info_keys()]},
     {statistics, [{run_queue, erlang:statistics(run_queue)},
                   {run_queue_lengths_all, erlang:statistics(run_queue_lengths_all)},
                   {reductions, Reductions},
                   {context_switches, ContextSwitches},
                   {gc_count, Gcs},
                   {gc_words_reclaimed, WordsReclaimed},
                   {io_input_bytes, In},
                   {io_output_bytes, Out},
                   {runtime_ms, Runtime},
                   {wall_clock_ms, WallClock}]},
     {dist_peers, length(erlang:nodes(connected))},
     {scheduler_wall_time, scheduler_wall_time()}].

system_info_keys() ->
    [process_count, process_limit, port_count, port_limit, atom_count, atom_limit,
     ets_count, ets_limit, schedulers, schedulers_online, dirty_cpu_schedulers,
     dirty_cpu_schedulers_online, dirty_io_schedulers, logical_processors,
     otp_release, version, wordsize].

%% Active and total time summed per scheduler type; undefined while nobody holds the flag.
scheduler_wall_time() ->
    case erlang:statistics(scheduler_wall_time_all) of
        undefined -> undefined;
        All ->
            Normal = erlang:system_info(schedulers),
            DirtyCpu = erlang:system_info(dirty_cpu_schedulers),
            Sum = fun(Lo, Hi) ->
                          lists:foldl(fun({Id, A, T}, {SA, ST}) when Id >= Lo, Id =< Hi -> {SA + A, ST + T};
                                         (_, Acc) -> Acc
                                      end, {0, 0}, All)
                  end,
            {NA, NT} = Sum(1, Normal),
            {CA, CT} = Sum(Normal + 1, Normal + DirtyCpu),
            {IA, IT} = Sum(Normal + DirtyCpu + 1, 1 bsl 30),
            [{normal, NA, NT}, {dirty_cpu, CA, CT}, {dirty_io, IA, IT}]
    end.

%% ---------------------------------------------------------------------------------------
%% processes

%% {Names, Matchers, Hosts}: the group names in order; #{{label, Tag} | {function, Name, Arity} |
%% {module, Module} => GroupIndex}; and #{MemberGroupIndex => [HostGroupIndex]} for the groups
%% that count the hosts of others. Groups: [{Name, [Module], [Label], [{Function, Arity}],
%% [HostsOf]}] (binaries). Unknown atoms are skipped: if the atom does not exist, no process can
%% carry it. A key listed by two groups belongs to the first.
group_table(Groups) ->
    Names = [element(1, G) || G <- Groups],
    Indexed = lists:zip(lists:seq(1, length(Names)), Names),
    Hosts = lists:foldl(
              fun({HostIndex, {_, _, _, _, HostsOf}}, Acc) ->
                      lists:foldl(fun(Member, A) ->
                                          case lists:keyfind(Member, 2, Indexed) of
                                              {MemberIndex, _} -> maps:update_with(MemberIndex, fun(L) -> [HostIndex | L] end,
                                                                                   [HostIndex], A);
                                              false -> A
                                          end
                                  end, Acc, HostsOf)
              end, #{}, lists:zip(lists:seq(1, length(Groups)), Groups)),
    {_, Matchers} =
        lists:foldl(fun({_Name, Modules, Labels, Functions, _HostsOf}, {Index, Acc0}) ->
                            Acc1 = lists:foldl(fun(M, A) -> add_key(fun(Atom) -> {module, Atom} end, M, Index, A) end,
                                               Acc0, Modules),
                            Acc2 = lists:foldl(fun(L, A) -> add_key(fun(Atom) -> {label, Atom} end, L, Index, A) end,
                                               Acc1, Labels),
                            Acc3 = lists:foldl(fun({F, Arity}, A) when is_integer(Arity) ->
                                                       add_key(fun(Atom) -> {function, Atom, Arity} end, F, Index, A)
                                               end, Acc2, Functions),
                            {Index + 1, Acc3}
                    end, {1, #{}}, Groups),
    {Names, Matchers, Hosts}.

add_key(MakeKey, Name, Index, Acc) ->
    try binary_to_existing_atom(Name, utf8) of
        Atom ->
            Key = MakeKey(Atom),
            case maps:is_key(Key, Acc) of
                true -> Acc;
                false -> Acc#{Key => Index}
            end
    catch error:badarg -> Acc
    end.

%% The memory ranking reads `memory` (a signal to the process) only for candidates: the
%% processes with the largest heap_size (the young heap, which ERTS reads without the process)
%% and the pids the caller passes back (the last ranking's rows and the last top mailboxes, whose
%% queued messages count in memory). heap_size is read for one slice of the processes per scan
%% (every Slices-th process, starting at Phase; the caller rotates Phase), so every process is
%% looked at once per Slices scans. Candidates per slice: at least this many, or this many per row.
-define(MEMORY_CANDIDATES_MIN, 50).
-define(MEMORY_CANDIDATES_PER_ROW, 5).

%% [{top_memory, Rows}]: the top N processes by memory.
memory_scan(Pids, TopN, {Phase, Slices}, Previous) ->
    HeapK = max(?MEMORY_CANDIDATES_MIN, ?MEMORY_CANDIDATES_PER_ROW * TopN),
    TopHeap = heap_scan(Pids, Phase, Slices, HeapK, [], 0, -1),
    ToRead = lists:usort([Pid || {_, Pid} <- TopHeap] ++ Previous),
    [{top_memory, memory_rows(ToRead, TopN)}].

%% Countdown reaches 0 on the processes of this scan's slice; the others cost no call. HeapMin is
%% the smallest heap among the candidates once HeapK are kept, -1 before.
heap_scan([], _Countdown, _Slices, _HeapK, TopHeap, _HeapLen, _HeapMin) ->
    TopHeap;
heap_scan([Pid | Rest], 0, Slices, HeapK, TopHeap, HeapLen, HeapMin) ->
    case erlang:process_info(Pid, heap_size) of
        {heap_size, Heap} when Heap > HeapMin ->
            {TopHeap1, HeapLen1} = top_insert(Heap, Pid, TopHeap, HeapLen, HeapK),
            HeapMin1 = case HeapLen1 < HeapK of
                           true -> -1;
                           false -> element(1, hd(TopHeap1))
                       end,
            heap_scan(Rest, Slices - 1, Slices, HeapK, TopHeap1, HeapLen1, HeapMin1);
        _ ->
            heap_scan(Rest, Slices - 1, Slices, HeapK, TopHeap, HeapLen, HeapMin)
    end;
heap_scan([_ | Rest], Countdown, Slices, HeapK, TopHeap, HeapLen, HeapMin) ->
    heap_scan(Rest, Countdown - 1, Slices, HeapK, TopHeap, HeapLen, HeapMin).

%% [{mailbox_histogram, {Buckets, Sum}}, {top_mailbox, Rows}]: one pass over all processes.
%% The common case (an empty mailbox) costs one process_info call and one match. Processes that
%% exit during the scan are skipped.
mailbox_scan(Pids, TopN) ->
    {Zero, Buckets, Sum, TopMql} = mailbox_loop(Pids, TopN, 0, {0, 0, 0, 0, 0, 0, 0, 0}, 0, [], 0),
    Rows = lists:filtermap(fun({Mql, Pid}) -> mailbox_row(Pid, Mql) end, lists:reverse(TopMql)),
    [{mailbox_histogram, {setelement(1, Buckets, Zero), Sum}}, {top_mailbox, Rows}].

mailbox_loop([], _TopN, Zero, Buckets, Sum, TopMql, _MqlLen) ->
    {Zero, Buckets, Sum, TopMql};
mailbox_loop([Pid | Rest], TopN, Zero, Buckets, Sum, TopMql, MqlLen) ->
    case erlang:process_info(Pid, message_queue_len) of
        {message_queue_len, 0} ->
            mailbox_loop(Rest, TopN, Zero + 1, Buckets, Sum, TopMql, MqlLen);
        {message_queue_len, Mql} ->
            B = bucket(Mql),
            {TopMql1, MqlLen1} = top_insert(Mql, Pid, TopMql, MqlLen, TopN),
            mailbox_loop(Rest, TopN, Zero, setelement(B, Buckets, element(B, Buckets) + 1), Sum + Mql, TopMql1,
                         MqlLen1);
        undefined ->
            mailbox_loop(Rest, TopN, Zero, Buckets, Sum, TopMql, MqlLen)
    end.

%% The caller's pid texts that name live-or-dead processes of this node; anything else is ignored.
local_pids(Texts) ->
    lists:filtermap(fun(Text) ->
                            try list_to_pid(binary_to_list(Text)) of
                                Pid when node(Pid) =:= node() -> {true, Pid};
                                _ -> false
                            catch error:badarg -> false
                            end
                    end, Texts).

%% The top N by memory, largest first, of the candidates ToRead.
memory_rows(ToRead, TopN) ->
    Sized = lists:filtermap(fun(Pid) ->
                                    case erlang:process_info(Pid, memory) of
                                        {memory, M} -> {true, {M, Pid}};
                                        undefined -> false
                                    end
                            end, ToRead),
    Top = lists:sublist(lists:reverse(lists:sort(Sized)), TopN),
    [{identity(Pid), pid_binary(Pid), M} || {M, Pid} <- Top].

%% Bucket index (1-based) for le = 0, 1, 10, 100, 1000, 10000, 100000, +Inf.
bucket(N) when N =< 1 -> 2;
bucket(N) when N =< 10 -> 3;
bucket(N) when N =< 100 -> 4;
bucket(N) when N =< 1000 -> 5;
bucket(N) when N =< 10000 -> 6;
bucket(N) when N =< 100000 -> 7;
bucket(_) -> 8.

initial_module(Pid) ->
    case erlang:process_info(Pid, initial_call) of
        {initial_call, {proc_lib, init_p, _}} -> proc_lib_module(Pid);
        {initial_call, {erlang, apply, 2}} -> spawned_fun_module(Pid);
        {initial_call, {Module, _, _}} -> Module;
        _ -> undefined
    end.

%% A plain spawn(Fun) starts in erlang:apply/2, which tells an on-call nothing. The fun runs as a
%% function of the module that defined it ('-name/A-fun-N-'), so the outermost frame of the
%% process's stack that is not erlang's own names it; a hibernated process has no stack, then its
%% current function's module does. Only read for the ranked rows.
spawned_fun_module(Pid) ->
    case erlang:process_info(Pid, [current_stacktrace, current_function]) of
        [{current_stacktrace, Frames}, {current_function, Current}] ->
            case [M || {M, _, _, _} <- lists:reverse(Frames), M =/= erlang] of
                [M | _] -> M;
                [] when element(1, Current) =/= erlang -> element(1, Current);
                [] -> spawned_fun
            end;
        undefined -> undefined
    end.

proc_lib_module(Pid) ->
    case erlang:process_info(Pid, dictionary) of
        {dictionary, Dict} ->
            case lists:keyfind('$initial_call', 1, Dict) of
                {_, {Module, _, _}} -> Module;
                _ -> proc_lib
            end;
        undefined -> undefined
    end.

%% Keeps the TopN largest {Key, Pid} in a list sorted ascending (smallest first), so the
%% common case (Key not above the current minimum of a full list) is one comparison.
top_insert(Key, Pid, Top, TopLen, TopN) when TopLen < TopN ->
    {lists:merge([{Key, Pid}], Top), TopLen + 1};
top_insert(Key, Pid, [{Min, _} | Rest], TopLen, _TopN) when Key > Min ->
    {lists:merge([{Key, Pid}], Rest), TopLen};
top_insert(_Key, _Pid, Top, TopLen, _TopN) ->
    {Top, TopLen}.

mailbox_row(Pid, Mql) ->
    case erlang:process_info(Pid, [memory, reductions, current_function]) of
        [{memory, Memory}, {reductions, Reductions}, {current_function, Current}] ->
            {true, {identity(Pid), pid_binary(Pid), Mql, Memory, Reductions, mfa_binary(Current)}};
        _ -> false
    end.

%% One process_info call per process reading what it is: the module it was started from (the
%% proc_lib '$initial_call' for GenServers and the like), the one it runs now, and its dictionary
%% ('$initial_call', '$process_label', '$callers'). A host group's count is the number of distinct
%% hosts its members named (kept in Counts under {hosts, HostIndex} during the pass).
group_pass(_Pids, {GroupNames, Matchers, _Hosts}, _Deadline) when map_size(Matchers) =:= 0 ->
    {[{Name, 0} || Name <- GroupNames], 0};
group_pass(Pids, {GroupNames, Matchers, Hosts}, Deadline) ->
    {Counts, Scanned} = group_loop(Pids, {Matchers, Hosts}, Deadline, #{}, 0),
    Count = fun(I) ->
                    case maps:get({hosts, I}, Counts, undefined) of
                        undefined -> maps:get(I, Counts, 0);
                        HostSet -> map_size(HostSet)
                    end
            end,
    Groups = [{Name, Count(I)} || {I, Name} <- lists:zip(lists:seq(1, length(GroupNames)), GroupNames)],
    {Groups, Scanned}.

%% Checks the clock every 1024 processes.
group_loop([], _Matchers, _Deadline, Counts, Scanned) ->
    {Counts, Scanned};
group_loop(Pids, Matchers, Deadline, Counts, Scanned) when Scanned band 1023 =:= 0, Scanned > 0 ->
    case erlang:monotonic_time(millisecond) > Deadline of
        true -> {Counts, Scanned};
        false -> group_step(Pids, Matchers, Deadline, Counts, Scanned)
    end;
group_loop(Pids, Matchers, Deadline, Counts, Scanned) ->
    group_step(Pids, Matchers, Deadline, Counts, Scanned).

group_step([Pid | Rest], Matchers, Deadline, Counts, Scanned) ->
    case erlang:process_info(Pid, [initial_call, current_function, dictionary]) of
        undefined -> group_loop(Rest, Matchers, Deadline, Counts, Scanned + 1);
        Info -> group_loop(Rest, Matchers, Deadline, count_group(Info, Matchers, Counts), Scanned + 1)
    end.

%% A process counts in one group at most: the group of the first of these that some group lists:
%% its label's tag (Phoenix labels a joined channel {Phoenix.Channel, UserChannel, Topic}), the
%% function of its '$initial_call' (Phoenix rewrites it to {UserChannel, join, 3}), the module it
%% was started from, the module it runs now.
count_group([{initial_call, Initial}, {current_function, Current}, {dictionary, Dict}], {Matchers, Hosts}, Counts) ->
    DictInitial = case lists:keyfind('$initial_call', 1, Dict) of
                      {_, {_, _, _} = MFA} -> MFA;
                      _ -> undefined
                  end,
    Started = case {Initial, DictInitial} of
                  {{proc_lib, init_p, _}, {M, _, _}} -> M;
                  {{proc_lib, init_p, _}, _} -> proc_lib;
                  {{M, _, _}, _} -> M;
                  _ -> undefined
              end,
    Keys = [label_key(lists:keyfind('$process_label', 1, Dict)),
            case DictInitial of {_, F, A} -> {function, F, A}; _ -> none end,
            {module, Started},
            case Current of {CM, _, _} -> {module, CM}; _ -> none end],
    case first_match(Keys, Matchers) of
        none -> Counts;
        I -> add_host(maps:get(I, Hosts, []), Dict, Counts#{I => maps:get(I, Counts, 0) + 1})
    end.

%% The process's host: the first of its '$callers' (Phoenix puts the socket's transport there).
add_host([], _Dict, Counts) ->
    Counts;
add_host(HostGroups, Dict, Counts) ->
    case lists:keyfind('$callers', 1, Dict) of
        {_, [Host | _]} when is_pid(Host) ->
            lists:foldl(fun(H, C) -> C#{{hosts, H} => (maps:get({hosts, H}, C, #{}))#{Host => true}} end,
                        Counts, HostGroups);
        _ ->
            Counts
    end.

label_key({_, Label}) when is_tuple(Label), tuple_size(Label) > 0 -> {label, element(1, Label)};
label_key({_, Label}) when is_atom(Label) -> {label, Label};
label_key(_) -> none.

first_match([], _Matchers) -> none;
first_match([Key | Rest], Matchers) ->
    case Matchers of
        #{Key := I} -> I;
        _ -> first_match(Rest, Matchers)
    end.

%% The label that says what a process is: its registered name, else the module it was
%% started from ('$initial_call' for proc_lib processes such as GenServers).
identity(Pid) ->
    case erlang:process_info(Pid, registered_name) of
        {registered_name, Name} when is_atom(Name) -> atom_to_binary(Name, utf8);
        _ ->
            case initial_module(Pid) of
                undefined -> <<"unknown">>;
                Module -> atom_to_binary(Module, utf8)
            end
    end.

pid_binary(Pid) -> list_to_binary(pid_to_list(Pid)).

mfa_binary({M, F, A}) -> iolist_to_binary([atom_to_binary(M, utf8), $:, atom_to_binary(F, utf8), $/, integer_to_binary(A)]);
mfa_binary(_) -> <<"undefined">>.

%% ---------------------------------------------------------------------------------------
%% ETS

%% [{ets, {Rows, Other}}]: the top EtsTopN tables by memory with their labels, and the sum over
%% all the others. Tables that disappear between ets:all() and ets:info/2 are skipped.
ets_tables(EtsTopN) ->
    WordSize = erlang:system_info(wordsize),
    {Top, _, Other} = lists:foldl(fun(Tab, Acc) -> ets_fold(Tab, Acc, EtsTopN, WordSize) end,
                                  {[], 0, {0, 0, 0}}, ets:all()),
    Rows = lists:filtermap(fun({Bytes, Tab, Size}) -> ets_row(Tab, Size, Bytes) end, lists:reverse(Top)),
    [{ets, {Rows, Other}}].

%% Top is sorted ascending by bytes; a table pushed out of it moves into the Other sums.
ets_fold(Tab, {Top, Len, {OC, OS, OM}} = Acc, EtsTopN, WordSize) ->
    case {ets:info(Tab, memory), ets:info(Tab, size)} of
        {Words, Size} when is_integer(Words), is_integer(Size) ->
            Bytes = Words * WordSize,
            if
                Len < EtsTopN ->
                    {lists:merge([{Bytes, Tab, Size}], Top), Len + 1, {OC, OS, OM}};
                EtsTopN =:= 0 ->
                    {Top, Len, {OC + 1, OS + Size, OM + Bytes}};
                true ->
                    [{MinBytes, _, MinSize} | Rest] = Top,
                    case Bytes > MinBytes of
                        true -> {lists:merge([{Bytes, Tab, Size}], Rest), Len, {OC + 1, OS + MinSize, OM + MinBytes}};
                        false -> {Top, Len, {OC + 1, OS + Size, OM + Bytes}}
                    end
            end;
        _ -> Acc
    end.

ets_row(Tab, Size, Bytes) ->
    case {ets:info(Tab, name), ets:info(Tab, owner), ets:info(Tab, type), ets:info(Tab, protection)} of
        {Name, Owner, Type, Protection} when is_atom(Name), is_pid(Owner) ->
            {true, {atom_to_binary(Name, utf8), identity(Owner), Type, Protection, Size, Bytes}};
        _ -> false
    end.
