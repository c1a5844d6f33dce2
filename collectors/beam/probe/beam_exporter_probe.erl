%% beam_exporter_probe: loaded onto the monitored node by beam_exporter (code:load_binary/3)
%% and called over RPC. It scans the node locally and returns only summaries and top-N rows,
%% so one collection costs one round trip and a few KB on the wire whatever the process count.
%%
%% Rules this module keeps (see docs/metrics.md):
%%  - read-only: it never sends to, links to, or changes application processes or tables;
%%    the only side effect is the holder process that keeps scheduler_wall_time on while
%%    the exporter is connected (the flag is tied to the process that enabled it).
%%  - bounded: the caller passes the row limits; work is one pass over processes() and one
%%    over ets:all(). The pass reads only items ERTS answers without involving the process
%%    (message_queue_len, heap_size: ~0.12 us each at 100k here). Items that make the target
%%    process handle a signal (memory, current_function, dictionary: 1.7-2.8 us each) are read
%%    only for the few candidate rows, or for every process in the group pass, which the
%%    exporter runs at a slower cadence and which stops at a time budget.
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

%% One collection: basics, mailboxes, the memory ranking and ETS. Opts: #{top_n => N, ets_top_n => M}
collect(Opts) ->
    T0 = erlang:monotonic_time(microsecond),
    TopN = maps:get(top_n, Opts, 10),
    EtsTopN = maps:get(ets_top_n, Opts, 50),
    Basic = basic(),
    T1 = erlang:monotonic_time(microsecond),
    {Hist, TopMql, TopMemory} = scan_processes(erlang:processes(), TopN),
    T2 = erlang:monotonic_time(microsecond),
    Ets = ets_tables(EtsTopN),
    T3 = erlang:monotonic_time(microsecond),
    Basic ++
        [{mailbox_histogram, Hist}, {top_mailbox, TopMql}, {top_memory, TopMemory}, {ets, Ets},
         {probe_timings_us, [{basic, T1 - T0}, {processes, T2 - T1}, {ets, T3 - T2}, {total, T3 - T0}]}].

%% The group pass: live processes counted by what they run. Telling a GenServer's module needs
%% its '$initial_call' from the dictionary (and current_function for processes that switched
%% module), both items that wake every process, so the exporter asks for this only every few
%% collections, and the pass stops when its time budget is spent (scanned < total in the
%% reply) so that it always answers within the caller's RPC timeout.
%% Opts: #{budget_ms => Ms, groups => [{NameBinary, [ModuleNameBinary]}]}
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

%% #{ModuleAtom => GroupIndex}, plus the group names in order. Unknown modules are skipped:
%% if the atom does not exist no process can have been started from that module.
group_table(Groups) ->
    Names = [Name || {Name, _} <- Groups],
    {_, ByModule} =
        lists:foldl(fun({_Name, Modules}, {Index, Acc}) ->
                            {Index + 1, lists:foldl(fun(M, A) -> add_module(M, Index, A) end, Acc, Modules)}
                    end, {1, #{}}, Groups),
    {Names, ByModule}.

add_module(ModuleName, Index, Acc) ->
    try binary_to_existing_atom(ModuleName, utf8) of
        Atom -> maps:put(Atom, Index, Acc)
    catch error:badarg -> Acc
    end.

%% The memory ranking looks at the processes with the largest heap_size (the young heap,
%% which ERTS reads without the process) and at the top mailboxes, and reads `memory` (a
%% signal to the process) only for those. At least this many candidates, or this many per row:
-define(MEMORY_CANDIDATES_MIN, 50).
-define(MEMORY_CANDIDATES_PER_ROW, 5).

%% One pass over all processes: the mailbox histogram, the total queued, the top N by queue
%% length and the memory candidates. The common case (empty mailbox, heap not among the
%% largest) costs one process_info call and two comparisons. Processes that exit during the
%% scan are skipped.
scan_processes(Pids, TopN) ->
    HeapK = max(?MEMORY_CANDIDATES_MIN, ?MEMORY_CANDIDATES_PER_ROW * TopN),
    {Zero, Buckets, Sum, TopMql, TopHeap} =
        scan(Pids, TopN, HeapK, 0, {0, 0, 0, 0, 0, 0, 0, 0}, 0, [], 0, [], 0, -1),
    MailboxRows = lists:filtermap(fun({Mql, Pid}) -> mailbox_row(Pid, Mql) end, lists:reverse(TopMql)),
    MemoryRows = memory_rows(lists:usort([Pid || {_, Pid} <- TopHeap ++ TopMql]), TopN),
    {{setelement(1, Buckets, Zero), Sum}, MailboxRows, MemoryRows}.

%% HeapMin is the smallest heap among the candidates once HeapK are kept, -1 before.
scan([], _TopN, _HeapK, Zero, Buckets, Sum, TopMql, _MqlLen, TopHeap, _HeapLen, _HeapMin) ->
    {Zero, Buckets, Sum, TopMql, TopHeap};
scan([Pid | Rest], TopN, HeapK, Zero, Buckets, Sum, TopMql, MqlLen, TopHeap, HeapLen, HeapMin) ->
    case erlang:process_info(Pid, [message_queue_len, heap_size]) of
        [{message_queue_len, 0}, {heap_size, Heap}] when Heap =< HeapMin ->
            scan(Rest, TopN, HeapK, Zero + 1, Buckets, Sum, TopMql, MqlLen, TopHeap, HeapLen, HeapMin);
        [{message_queue_len, Mql}, {heap_size, Heap}] ->
            {TopHeap1, HeapLen1} = top_insert(Heap, Pid, TopHeap, HeapLen, HeapK),
            HeapMin1 = case HeapLen1 < HeapK of
                           true -> -1;
                           false -> element(1, hd(TopHeap1))
                       end,
            case Mql of
                0 ->
                    scan(Rest, TopN, HeapK, Zero + 1, Buckets, Sum, TopMql, MqlLen, TopHeap1, HeapLen1, HeapMin1);
                _ ->
                    B = bucket(Mql),
                    {TopMql1, MqlLen1} = top_insert(Mql, Pid, TopMql, MqlLen, TopN),
                    scan(Rest, TopN, HeapK, Zero, setelement(B, Buckets, element(B, Buckets) + 1), Sum + Mql,
                         TopMql1, MqlLen1, TopHeap1, HeapLen1, HeapMin1)
            end;
        undefined ->
            scan(Rest, TopN, HeapK, Zero, Buckets, Sum, TopMql, MqlLen, TopHeap, HeapLen, HeapMin)
    end.

%% The top N candidates by memory, largest first.
memory_rows(Candidates, TopN) ->
    Sized = lists:filtermap(fun(Pid) ->
                                    case erlang:process_info(Pid, memory) of
                                        {memory, M} -> {true, {M, Pid}};
                                        undefined -> false
                                    end
                            end, Candidates),
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
        {initial_call, {Module, _, _}} -> Module;
        _ -> undefined
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

%% One process_info call per process reading what it runs: the module it was started from
%% (the proc_lib '$initial_call' for GenServers and the like) and the one it runs now.
group_pass(_Pids, {GroupNames, ByModule}, _Deadline) when map_size(ByModule) =:= 0 ->
    {[{Name, 0} || Name <- GroupNames], 0};
group_pass(Pids, {GroupNames, ByModule}, Deadline) ->
    {Counts, Scanned} = group_loop(Pids, ByModule, Deadline, #{}, 0),
    Groups = [{Name, maps:get(I, Counts, 0)} || {I, Name} <- lists:zip(lists:seq(1, length(GroupNames)), GroupNames)],
    {Groups, Scanned}.

%% Checks the clock every 1024 processes.
group_loop([], _ByModule, _Deadline, Counts, Scanned) ->
    {Counts, Scanned};
group_loop(Pids, ByModule, Deadline, Counts, Scanned) when Scanned band 1023 =:= 0, Scanned > 0 ->
    case erlang:monotonic_time(millisecond) > Deadline of
        true -> {Counts, Scanned};
        false -> group_step(Pids, ByModule, Deadline, Counts, Scanned)
    end;
group_loop(Pids, ByModule, Deadline, Counts, Scanned) ->
    group_step(Pids, ByModule, Deadline, Counts, Scanned).

group_step([Pid | Rest], ByModule, Deadline, Counts, Scanned) ->
    case erlang:process_info(Pid, [initial_call, current_function, dictionary]) of
        undefined -> group_loop(Rest, ByModule, Deadline, Counts, Scanned + 1);
        Info -> group_loop(Rest, ByModule, Deadline, count_group(Info, ByModule, Counts), Scanned + 1)
    end.

%% A process counts in a group when the module it was started from, or the module of the
%% function it is running now, is one of the group's modules (first match wins).
count_group([{initial_call, Initial}, {current_function, Current}, {dictionary, Dict}], ByModule, Counts) ->
    Started = case Initial of
                  {proc_lib, init_p, _} ->
                      case lists:keyfind('$initial_call', 1, Dict) of
                          {_, {M, _, _}} -> M;
                          _ -> proc_lib
                      end;
                  {M, _, _} -> M;
                  _ -> undefined
              end,
    Running = case Current of {CM, _, _} -> CM; _ -> undefined end,
    case {ByModule, ByModule} of
        {#{Started := I}, _} -> Counts#{I => maps:get(I, Counts, 0) + 1};
        {_, #{Running := I}} -> Counts#{I => maps:get(I, Counts, 0) + 1};
        _ -> Counts
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

%% Top EtsTopN tables by memory with their labels, and the sum over all the others.
%% Tables that disappear between ets:all() and ets:info/2 are skipped.
ets_tables(EtsTopN) ->
    WordSize = erlang:system_info(wordsize),
    {Top, _, Other} = lists:foldl(fun(Tab, Acc) -> ets_fold(Tab, Acc, EtsTopN, WordSize) end,
                                  {[], 0, {0, 0, 0}}, ets:all()),
    Rows = lists:filtermap(fun({Bytes, Tab, Size}) -> ets_row(Tab, Size, Bytes) end, lists:reverse(Top)),
    {Rows, Other}.

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
