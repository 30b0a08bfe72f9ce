-- Only lsp/vibethinker.lua and vim.lsp.enable(): the settings arrive through workspace/configuration,
-- and the Implement action from the built-in code action menu lands in the buffer.
return function(H, params)
  local client = H.client()
  H.cursor_on(params.todo)
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return type(action.data) == 'table' and action.data.action == 'implement'
    end,
  })
  H.wait(function()
    return not H.text():find('TODO', 1, true)
  end, 'the implement edit', 30000)
  local statusline = H.wait(function()
    local line = require('vibethinker').statusline()
    return line:find('sandbox', 1, true) and line
  end, 'the status line')
  return {
    text = H.text(),
    init_options = client.config.init_options,
    commands = vim.tbl_keys(vim.api.nvim_buf_get_commands(0, {})),
    statusline = statusline,
  }
end
