defmodule Lab.Faults do
  @moduledoc """
  The fault switches. Each fault is a name, a flag workers read (`on?/1`, an ETS lookup) and an
  optional action run when it is switched (e.g. clearing leaked state when switched off).

  Switch by HTTP (`POST /faults/<name>/on|off`) or RPC (`Lab.Faults.set(:name, true)`).
  """

  use GenServer

  @table :lab_faults
  @names [
    :genserver_timeout,
    :controller_raise,
    :websocket_disconnect,
    :mailbox_overflow,
    :memory_leak,
    :ets_bloat,
    :restart_storm,
    :overload
  ]

  def names, do: @names

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @doc "Whether a fault is on (cheap; called by workers on every tick)."
  def on?(name), do: :ets.lookup_element(@table, name, 2)

  @doc "Switches a fault; returns :ok or {:error, :unknown_fault}."
  def set(name, on?) when is_binary(name) do
    case Enum.find(@names, &(Atom.to_string(&1) == name)) do
      nil -> {:error, :unknown_fault}
      atom -> set(atom, on?)
    end
  end

  def set(name, on?) when name in @names and is_boolean(on?),
    do: GenServer.call(__MODULE__, {:set, name, on?})

  def set(_name, _on?), do: {:error, :unknown_fault}

  @doc "All faults and their state."
  def list, do: for(name <- @names, do: {name, on?(name)})

  @impl true
  def init(nil) do
    :ets.new(@table, [:named_table, :public, read_concurrency: true])
    for name <- @names, do: :ets.insert(@table, {name, false})
    {:ok, nil}
  end

  @impl true
  def handle_call({:set, name, on?}, _from, state) do
    :ets.insert(@table, {name, on?})
    require Logger
    Logger.notice("fault #{name} switched #{if on?, do: "on", else: "off"}")
    {:reply, :ok, state}
  end
end
