-- A textDocument/inlineCompletion request through Neovim's client at the end of a line.
return function(H, params)
  local client = H.client()
  local row = H.cursor_on(params.line)
  local line = vim.api.nvim_buf_get_lines(0, row - 1, row, true)[1]
  local response = H.wait(function()
    return client:request_sync('textDocument/inlineCompletion', {
      textDocument = vim.lsp.util.make_text_document_params(0),
      position = { line = row - 1, character = #line },
      context = { triggerKind = 1 },
    }, 10000, 0)
  end, 'the inline completion response')
  if response.err then
    error('inlineCompletion failed: ' .. vim.inspect(response.err))
  end
  local result = response.result or {}
  return {
    items = result.items or result,
    advertised = client.server_capabilities.inlineCompletionProvider ~= nil,
  }
end
