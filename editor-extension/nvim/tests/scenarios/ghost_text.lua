-- Typing at the end of a line shows ghost text (vim.lsp.inline_completion); <Tab> accepts it.
return function(H, params)
  local client = H.client()
  if not client.server_capabilities.inlineCompletionProvider then
    return { advertised = false, capabilities = client.server_capabilities }
  end
  local row = H.cursor_on(params.line)
  local namespace = vim.api.nvim_get_namespaces()['nvim.lsp.inline_completion']
  H.type('A')
  local ghost = H.wait(function()
    local marks = vim.api.nvim_buf_get_extmarks(0, namespace, 0, -1, { details = true })
    if marks[1] then
      local chunks = {}
      for _, chunk in ipairs(marks[1][4].virt_text or {}) do
        table.insert(chunks, chunk[1])
      end
      return { row = marks[1][2] + 1, text = table.concat(chunks) }
    end
  end, 'ghost text', 30000)
  local mode = vim.api.nvim_get_mode().mode
  local before = vim.api.nvim_buf_get_lines(0, row - 1, row, true)[1]
  H.type('<Tab>')
  H.wait(function()
    return vim.api.nvim_buf_get_lines(0, row - 1, row, true)[1] ~= before
  end, 'the accepted completion in the buffer')
  H.type('<Esc>')
  H.wait(function()
    return vim.api.nvim_get_mode().mode == 'n'
  end, 'normal mode')
  return {
    advertised = true,
    ghost = ghost,
    mode_while_shown = mode,
    line = vim.api.nvim_buf_get_lines(0, row - 1, row, true)[1],
  }
end
