defmodule Lab.Http.WebSocket do
  @moduledoc """
  The bits of RFC 6455 the lab needs (pure): the handshake accept value and frame
  encoding/decoding for text, ping, pong and close frames up to 64 KB.
  """

  import Bitwise

  @guid "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
  @max_payload 65_535

  @opcodes %{text: 1, close: 8, ping: 9, pong: 10}

  def accept_key(key), do: Base.encode64(:crypto.hash(:sha, key <> @guid))

  @doc "Encodes a frame; clients must mask (`mask_key` 4 bytes), servers must not (nil)."
  def encode(type, payload, mask_key \\ nil) when byte_size(payload) <= @max_payload do
    opcode = Map.fetch!(@opcodes, type)
    size = byte_size(payload)
    length = if size < 126, do: <<size::7>>, else: <<126::7, size::16>>

    case mask_key do
      nil ->
        <<1::1, 0::3, opcode::4, 0::1, length::bitstring, payload::binary>>

      <<_::32>> ->
        <<1::1, 0::3, opcode::4, 1::1, length::bitstring, mask_key::binary,
          mask(payload, mask_key)::binary>>
    end
  end

  @doc "Decodes one frame from the front of `buffer`: `{:ok, type, payload, rest}`, `:more` or `{:error, reason}`."
  def decode(<<_fin::1, _rsv::3, opcode::4, masked::1, len::7, rest::binary>>) do
    with {:ok, size, rest} <- payload_size(len, rest),
         {:ok, mask_key, rest} <- mask_key(masked, rest),
         <<payload::binary-size(size), rest::binary>> <- rest,
         {:ok, type} <- type(opcode) do
      {:ok, type, if(mask_key, do: mask(payload, mask_key), else: payload), rest}
    else
      {:error, _} = error -> error
      _ -> :more
    end
  end

  def decode(_buffer), do: :more

  defp payload_size(126, <<size::16, rest::binary>>), do: {:ok, size, rest}
  defp payload_size(127, _rest), do: {:error, :frame_too_large}
  defp payload_size(len, rest) when len < 126, do: {:ok, len, rest}
  defp payload_size(_len, _rest), do: :more

  defp mask_key(0, rest), do: {:ok, nil, rest}
  defp mask_key(1, <<key::binary-size(4), rest::binary>>), do: {:ok, key, rest}
  defp mask_key(1, _rest), do: :more

  defp type(opcode) do
    case Enum.find(@opcodes, fn {_, code} -> code == opcode end) do
      {type, _} -> {:ok, type}
      nil -> {:error, {:unsupported_opcode, opcode}}
    end
  end

  defp mask(payload, <<a, b, c, d>>) do
    keys = {a, b, c, d}

    for {byte, i} <- Enum.with_index(:binary.bin_to_list(payload)),
        into: <<>>,
        do: <<bxor(byte, elem(keys, rem(i, 4)))>>
  end
end
