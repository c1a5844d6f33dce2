defmodule BeamExporter.Forwarder.Labels do
  @moduledoc """
  Small helpers that turn metadata values into low-cardinality label values of the wire types
  (binary, atom, integer, float, boolean). Pure.
  """

  @unknown "unknown"

  @doc "The value used when a documented metadata field is missing."
  def unknown, do: @unknown

  @doc "A module as its Elixir-style name without the `Elixir.` prefix; anything else -> unknown."
  @spec module_name(term) :: String.t()
  def module_name(nil), do: @unknown

  def module_name(module) when is_atom(module) do
    case Atom.to_string(module) do
      "Elixir." <> name -> name
      name -> name
    end
  end

  def module_name(module) when is_binary(module), do: module
  def module_name(_), do: @unknown

  @doc "An atom or a binary as a string (for actions, commands, states, results)."
  @spec name(term) :: String.t()
  def name(nil), do: @unknown
  def name(value) when is_binary(value), do: value
  def name(value) when is_atom(value), do: Atom.to_string(value)
  def name(_), do: @unknown

  @doc "The exception module name of a reason (for `kind`/`reason` of :exception events)."
  @spec exception_name(term) :: String.t()
  def exception_name(%{__exception__: true, __struct__: module}), do: module_name(module)
  def exception_name(reason) when is_atom(reason), do: Atom.to_string(reason)
  def exception_name({reason, _}) when is_atom(reason), do: Atom.to_string(reason)
  def exception_name(_), do: "other"

  @doc "Keeps only wire-typed values (drops maps, tuples, pids...)."
  @spec scalar?(term) :: boolean
  def scalar?(value), do: is_atom(value) or is_binary(value) or is_number(value)
end
