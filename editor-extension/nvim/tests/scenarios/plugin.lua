-- The plugin as a user meets it: attach, buffer-local commands, inline completion on, a code action
-- listed at the TODO, the status line, :VibeStatus, :checkhealth vibethinker and :VibeRestart.
return function(H, params)
  local client = H.client()
  local bufnr = vim.api.nvim_get_current_buf()
  local todo = H.cursor_on(params.todo)
  local response = H.wait(function()
    return vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', {
      textDocument = vim.lsp.util.make_text_document_params(bufnr),
      range = { start = { line = todo - 1, character = 0 }, ['end'] = { line = todo - 1, character = 0 } },
      context = { diagnostics = {} },
    }, 10000)
  end, 'the code action response')
  local titles = {}
  for _, action in ipairs((response[client.id] or {}).result or {}) do
    table.insert(titles, action.title)
  end
  local statusline = H.wait(function()
    local line = require('vibethinker').statusline()
    return line:find('sandbox', 1, true) and line
  end, 'the vibethinker/status notification with the sandbox level')

  local accept_map = ''
  for _, map in ipairs(vim.api.nvim_buf_get_keymap(bufnr, 'i')) do
    if map.lhs == '<Tab>' then
      accept_map = map.desc or ''
    end
  end
  local commands = vim.tbl_keys(vim.api.nvim_buf_get_commands(bufnr, {}))
  local inline_completion = vim.lsp.inline_completion.is_enabled({ bufnr = bufnr })

  vim.cmd('VibeStatus')
  local shown = H.messages[#H.messages][1]

  vim.cmd('checkhealth vibethinker')
  local health = vim.api.nvim_buf_get_lines(0, 0, -1, false)

  vim.api.nvim_set_current_buf(bufnr)
  vim.cmd('VibeRestart')
  local restarted = H.wait(function()
    local now = vim.lsp.get_clients({ name = 'vibethinker', bufnr = bufnr })[1]
    return now and now.id ~= client.id and now.initialized and now
  end, 'a new client after :VibeRestart')
  return {
    client_name = client.name,
    root_dir = client.root_dir,
    cmd = client.config.cmd,
    init_options = client.config.init_options,
    filetype = vim.bo[bufnr].filetype,
    commands = commands,
    inline_completion = inline_completion,
    accept_map = accept_map,
    titles = titles,
    statusline = statusline,
    health = health,
    status_message = shown,
    old_client_stopped = client:is_stopped(),
    restarted_client = restarted.id,
    old_client = client.id,
  }
end
