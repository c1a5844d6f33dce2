%% beam_exporter_probe: loaded onto the monitored node by beam_exporter (code:load_binary/3)
%% and called over RPC. It scans the node locally and returns only summaries and top-N rows,
%% so one collection costs one round trip and a few KB on the wire whatever the process count.
%%
%% Rules this module keeps (see docs/metrics.md):
%%  - read-only: it never sends to, links to, or changes application processes or tables;
%%    the only side effect is the holder process that keeps scheduler_wall_time on while
%%    the exporter is connected (the flag is tied to the process that enabled it).
%%  - bounded: the caller passes the row limits; work is one pass over processes() and one
%%    over ets:all(); the costly process_info items (memory, current_function, dictionary)
%%    are read only for the few rows returned, or for every process in the detail pass
%%    (memory ranking, process groups), which the exporter runs at a slower cadence and which
%%    stops at a time budget.
%%  - no atoms are created from caller input (group modules are looked up as existing atoms).
-module(beam_exporter_probe).

-export([vsn/0, collect/1, details/1, start_holder/1, stop_holder/1]).

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

%% The regular collection. Opts: #{top_n => N, ets_top_n => M}
collect(Opts) ->
    T0 = erlang:monotonic_time(microsecond),
    TopN = maps:get(top_n, Opts, 10),
    EtsTopN = maps:get(ets_top_n, Opts, 50),
    Basic = basic(),
    T1 = erlang:monotonic_time(microsecond),
    {Hist, TopMql} = scan_processes(erlang:processes(), TopN),
    T2 = erlang:monotonic_time(microsecond),
    Ets = ets_tables(EtsTopN),
    T3 = erlang:monotonic_time(microsecond),
    Basic ++
        [{mailbox_histogram, Hist}, {top_mailbox, TopMql}, {ets, Ets},
         {probe_timings_us, [{basic, T1 - T0}, {mailboxes, T2 - T1}, {ets, T3 - T2}, {total, T3 - T0}]}].

%% The detail pass: the memory ranking and the group counts. Both wake every process
%% (process_info memory / dictionary), about 10x the cost of the mailbox scan, so the exporter
%% asks for them only every few collections, and the pass stops when its time budget is spent
%% (scanned < total in the reply) so that it always answers within the caller's RPC timeout.
%% Opts: #{top_n => N, budget_ms => Ms, groups => [{NameBinary, [ModuleNameBinary]}]}
details(Opts) ->
    T0 = erlang:monotonic_time(microsecond),
    TopN = maps:get(top_n, Opts, 10),
    Deadline = erlang:monotonic_time(millisecond) + maps:get(budget_ms, Opts, 1000),
    Pids = erlang:processes(),
    {TopMemory, Groups, Scanned} = detail_pass(Pids, TopN, group_table(maps:get(groups, Opts, [])), Deadline),
    T1 = erlang:monotonic_time(microsecond),
    [{top_memory, TopMemory}, {groups, Groups}, {scanned, Scanned}, {total, length(Pids)},
     {probe_timings_us, [{details, T1 - T0}]}].

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

%% One pass over all processes for message_queue_len (read without waking the process):
%% the histogram, the total and the top N. Empty mailboxes, the common case, only bump a
%% counter. Processes that exit during the scan are skipped.
scan_processes(Pids, TopN) ->
    {Zero, Buckets, Sum, Top} = scan(Pids, TopN, 0, {0, 0, 0, 0, 0, 0, 0, 0}, 0, [], 0),
    Rows = lists:filtermap(fun({Mql, Pid}) -> mailbox_row(Pid, Mql) end, lists:reverse(Top)),
    {{setelement(1, Buckets, Zero), Sum}, Rows}.

scan([], _TopN, Zero, Buckets, Sum, Top, _TopLen) ->
    {Zero, Buckets, Sum, Top};
scan([Pid | Rest], TopN, Zero, Buckets, Sum, Top, TopLen) ->
    case erlang:process_info(Pid, message_queue_len) of
        {message_queue_len, 0} ->
            scan(Rest, TopN, Zero + 1, Buckets, Sum, Top, TopLen);
        {message_queue_len, Mql} ->
            B = bucket(Mql),
            {Top1, TopLen1} = top_insert(Mql, Pid, Top, TopLen, TopN),
            scan(Rest, TopN, Zero, setelement(B, Buckets, element(B, Buckets) + 1), Sum + Mql, Top1, TopLen1);
        undefined ->
            scan(Rest, TopN, Zero, Buckets, Sum, Top, TopLen)
    end.

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

%% The detail pass: one process_info call per process that reads memory (for the top N by
%% memory) and, when groups are configured, what the process runs (initial_call, the proc_lib
%% '$initial_call' from the dictionary, current_function) to count group members. These
%% items make the process handle a signal (it gets scheduled), hence the slower cadence.
detail_pass(Pids, TopN, {GroupNames, ByModule}, Deadline) ->
    Items = case map_size(ByModule) of
                0 -> [memory];
                _ -> [memory, initial_call, current_function, dictionary]
            end,
    {Top, Counts, Scanned} = detail_loop(Pids, Items, TopN, ByModule, Deadline, [], 0, #{}, 0),
    TopMemory = [{identity(Pid), pid_binary(Pid), Memory} || {Memory, Pid} <- lists:reverse(Top)],
    Groups = [{Name, maps:get(I, Counts, 0)} || {I, Name} <- lists:zip(lists:seq(1, length(GroupNames)), GroupNames)],
    {TopMemory, Groups, Scanned}.

%% Checks the clock every 1024 processes.
detail_loop([], _Items, _TopN, _ByModule, _Deadline, Top, _Len, Counts, Scanned) ->
    {Top, Counts, Scanned};
detail_loop(Pids, Items, TopN, ByModule, Deadline, Top, Len, Counts, Scanned)
  when Scanned band 1023 =:= 0, Scanned > 0 ->
    case erlang:monotonic_time(millisecond) > Deadline of
        true -> {Top, Counts, Scanned};
        false -> detail_step(Pids, Items, TopN, ByModule, Deadline, Top, Len, Counts, Scanned)
    end;
detail_loop(Pids, Items, TopN, ByModule, Deadline, Top, Len, Counts, Scanned) ->
    detail_step(Pids, Items, TopN, ByModule, Deadline, Top, Len, Counts, Scanned).

detail_step([Pid | Rest], Items, TopN, ByModule, Deadline, Top, Len, Counts, Scanned) ->
    case erlang:process_info(Pid, Items) of
        [{memory, M} | Info] ->
            {Top1, Len1} = top_insert(M, Pid, Top, Len, TopN),
            detail_loop(Rest, Items, TopN, ByModule, Deadline, Top1, Len1, count_group(Info, ByModule, Counts),
                        Scanned + 1);
        undefined ->
            detail_loop(Rest, Items, TopN, ByModule, Deadline, Top, Len, Counts, Scanned + 1)
    end.

%% A process counts in a group when the module it was started from, or the module of the
%% function it is running now, is one of the group's modules (first match wins).
count_group([], _ByModule, Counts) -> Counts;
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
