-- VibeThinker for Neovim: starts `vibethinker-lsp serve` for the languages it reads, turns on ghost-text
-- inline completion, and adds buffer-local commands, key maps and a status line helper.
--
--   require('vibethinker').setup({ settings = { generation = { candidates = 8 } } })

local M = {}

local status = require('vibethinker.status')

---@class vibethinker.Keymaps
---@field accept? string|false  accept the inline completion (insert mode; falls back to the key itself)
---@field next? string|false    next inline completion candidate
---@field prev? string|false    previous inline completion candidate

---@class vibethinker.Options
---@field cmd? string[]                 the server command without `serve` (default: { 'vibethinker-lsp' })
---@field python? string                run the server as `PYTHON -m lsp_server` instead of `cmd`
---@field filetypes? string[]           filetypes to attach to (default: every language the server reads)
---@field root_markers? string[]        files that mark a project root
---@field settings? table               the server's settings tree (camelCase, as in the README)
---@field inline_completion? boolean    ghost-text completions in attached buffers (default: true)
---@field commands? boolean             buffer-local :Vibe* commands (default: true)
---@field keymaps? vibethinker.Keymaps|false

--- The keys setup() reads; any other key is reported and ignored.
M.option_keys = {
  'cmd', 'python', 'filetypes', 'root_markers', 'settings', 'inline_completion', 'commands', 'keymaps',
}

---@type vibethinker.Options
M.defaults = {
  cmd = { 'vibethinker-lsp' },
  python = nil,
  filetypes = nil,
  root_markers = nil,
  settings = {},
  inline_completion = true,
  commands = true,
  keymaps = { accept = '<Tab>', next = '<M-]>', prev = '<M-[>' },
}

--- The options setup() was called with, merged over the defaults.
---@type vibethinker.Options
M.options = vim.deepcopy(M.defaults)

--- The server command without its subcommand: `cmd`, or `python -m lsp_server` when `python` is set.
---@param opts? vibethinker.Options
---@return string[]
function M.base_cmd(opts)
  opts = opts or M.options
  if opts.python and opts.python ~= '' then
    return { opts.python, '-m', 'lsp_server' }
  end
  return vim.deepcopy(opts.cmd or M.defaults.cmd)
end

--- The server command without `serve` as Neovim will run it: from the resolved `vibethinker` LSP config
--- (setup() or the user's own vim.lsp.config), else from the options.
---@return string[]
function M.configured_cmd()
  local ok, config = pcall(function()
    return vim.lsp.config.vibethinker
  end)
  local cmd = ok and config and config.cmd
  if type(cmd) ~= 'table' or #cmd == 0 then
    return M.base_cmd()
  end
  cmd = vim.deepcopy(cmd)
  if cmd[#cmd] == 'serve' then
    table.remove(cmd)
  end
  return cmd
end

--- The server settings in use: setup()'s `settings`, else the `vibethinker` section of the LSP config.
---@return table
function M.configured_settings()
  if M.options.settings and not vim.tbl_isempty(M.options.settings) then
    return M.options.settings
  end
  local ok, config = pcall(function()
    return vim.lsp.config.vibethinker
  end)
  local section = ok and config and vim.tbl_get(config, 'settings', 'vibethinker')
  return type(section) == 'table' and section or {}
end

--- The message for a server command that cannot be run, or nil when it can.
---@param cmd string[]
---@return string?
function M.missing_server(cmd)
  if vim.fn.executable(cmd[1]) == 1 then
    return nil
  end
  return ('VibeThinker: `%s` was not found. Install the server (`pip install -e .` in the vibethinker-lsp '
    .. 'checkout) or set `cmd` or `python` in setup().'):format(cmd[1])
end

--- Run `f(client, bufnr)` for the VibeThinker client of the current buffer, or say there is none.
---@param f fun(client: vim.lsp.Client, bufnr: integer)
local function with_client(f)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = vim.lsp.get_clients({ name = 'vibethinker', bufnr = bufnr })[1]
  if not client then
    vim.notify('VibeThinker is not attached to this buffer.', vim.log.levels.WARN)
    return
  end
  f(client, bufnr)
end

--- The LSP range of a command's line range, or of the cursor line when the command had none.
---@param cmd_opts table the user command's arguments
---@return {start: integer[], end: integer[]}
local function command_range(cmd_opts)
  local first, last = cmd_opts.line1, cmd_opts.line2
  if cmd_opts.range == 0 then
    first = vim.api.nvim_win_get_cursor(0)[1]
    last = first
  end
  local last_text = vim.api.nvim_buf_get_lines(0, last - 1, last, true)[1]
  return { start = { first, 0 }, ['end'] = { last, math.max(#last_text, 1) } }
end

--- The server's workspace command for each action name (`data.action` of its code actions).
M.action_commands = {
  implement = 'vibethinker.implement',
  applyUnverified = 'vibethinker.applyUnverified',
  optimize = 'vibethinker.optimize',
  fix = 'vibethinker.fix',
  explain = 'vibethinker.explainComplexity',
  runExamples = 'vibethinker.runExamples',
  stressTest = 'vibethinker.stressTest',
  addCounterexample = 'vibethinker.addCounterexample',
}

--- Which of the server's actions a code action (or bare command) is: its `data.action`, never its title.
---@param action lsp.CodeAction|lsp.Command
---@return string?
function M.action_name(action)
  if type(action.command) == 'string' then
    for name, command in pairs(M.action_commands) do
      if command == action.command then
        return name
      end
    end
    return nil
  end
  return type(action.data) == 'table' and action.data.action or nil
end

--- Apply the VibeThinker code action with this `data.action` name (at the cursor, or on a range).
---@param name string one of the keys of `action_commands`, e.g. 'implement'
---@param range? {start: integer[], end: integer[]}
function M.code_action(name, range)
  with_client(function(client)
    vim.lsp.buf.code_action({
      apply = true,
      range = range,
      filter = function(action, client_id)
        return (client_id == nil or client_id == client.id) and M.action_name(action) == name
      end,
    })
  end)
end

--- Implement the TODO on the cursor line.
function M.implement()
  M.code_action('implement')
end

--- Run the function under the cursor on its examples; the results become diagnostics.
function M.run_examples()
  M.code_action('runExamples')
end

--- Show the hover: complexity estimate, last example results and the model's explanation.
function M.explain()
  with_client(function()
    vim.lsp.buf.hover()
  end)
end

--- Cancel every VibeThinker job in progress (the same as a progress cancel button).
function M.cancel()
  with_client(function(client)
    local current = status.get(client.id)
    local count = 0
    for token in pairs(current and current.progress or {}) do
      client:notify('window/workDoneProgress/cancel', { token = token })
      count = count + 1
    end
    vim.notify(('VibeThinker: %s.'):format(count > 0 and ('cancelled %d job(s)'):format(count) or 'nothing is running'))
  end)
end

--- Stop the server and start it again for every open buffer of its filetypes.
function M.restart()
  local clients = vim.lsp.get_clients({ name = 'vibethinker' })
  vim.lsp.enable('vibethinker', false)
  vim.wait(5000, function()
    for _, client in ipairs(clients) do
      if not client:is_stopped() then
        return false
      end
    end
    return true
  end)
  vim.lsp.enable('vibethinker')
end

--- Print the server's state: model, sandbox level and running jobs.
function M.show_status()
  with_client(function(client, bufnr)
    local line = status.statusline(bufnr)
    local current = status.get(client.id) or {}
    local lines = { line ~= '' and line or 'VibeThinker: starting' }
    if current.model then
      table.insert(lines, 'model: ' .. current.model .. (current.detail and current.detail ~= '' and (' (' .. current.detail .. ')') or ''))
    end
    if current.sandbox then
      table.insert(lines, 'sandbox: ' .. current.sandbox)
    end
    vim.notify(table.concat(lines, '\n'))
  end)
end

--- The status line string (see `vibethinker.status.statusline`).
---@param bufnr? integer
---@return string
function M.statusline(bufnr)
  return status.statusline(bufnr)
end

--- The buffer-local user commands.
---@param bufnr integer
local function create_commands(bufnr)
  local function command(name, fn, desc, extra)
    vim.api.nvim_buf_create_user_command(bufnr, name, fn, vim.tbl_extend('force', { desc = desc }, extra or {}))
  end
  command('VibeImplement', M.implement, 'VibeThinker: implement the TODO on this line')
  command('VibeRunExamples', M.run_examples, 'VibeThinker: run this function on its examples')
  command('VibeStress', function()
    M.code_action('stressTest')
  end, 'VibeThinker: stress-test this function or program against a brute force on generated inputs')
  command('VibeAddCounterexample', function()
    M.code_action('addCounterexample')
  end, 'VibeThinker: add the last counterexample as a test where the samples are read')
  command('VibeExplain', function(args)
    if args.range > 0 then
      M.code_action('explain', command_range(args))
    else
      M.explain()
    end
  end, 'VibeThinker: explain this function (with a range: insert a complexity comment)', { range = true })
  command('VibeOptimize', function(args)
    M.code_action('optimize', command_range(args))
  end, 'VibeThinker: rewrite this function with a better complexity, verified on its examples', { range = true })
  command('VibeFix', function()
    M.code_action('fix')
  end, 'VibeThinker: fix this function so that it passes its examples')
  command('VibeApplyUnverified', function()
    M.code_action('applyUnverified')
  end, 'VibeThinker: insert the closest candidate although it failed the examples')
  command('VibeCancel', M.cancel, 'VibeThinker: cancel the running jobs')
  command('VibeStatus', M.show_status, 'VibeThinker: model state and sandbox level')
  command('VibeRestart', M.restart, 'VibeThinker: restart the language server')
end

--- Insert-mode keys for inline completion, local to the buffer.
---@param bufnr integer
---@param keymaps vibethinker.Keymaps
local function create_keymaps(bufnr, keymaps)
  if keymaps.accept then
    local key = keymaps.accept
    vim.keymap.set('i', key, function()
      if not vim.lsp.inline_completion.get() then
        return vim.keycode(key)
      end
    end, { buffer = bufnr, expr = true, desc = 'VibeThinker: accept the inline completion' })
  end
  if keymaps.next then
    vim.keymap.set('i', keymaps.next, function()
      vim.lsp.inline_completion.select({ count = 1 })
    end, { buffer = bufnr, desc = 'VibeThinker: next inline completion' })
  end
  if keymaps.prev then
    vim.keymap.set('i', keymaps.prev, function()
      vim.lsp.inline_completion.select({ count = -1 })
    end, { buffer = bufnr, desc = 'VibeThinker: previous inline completion' })
  end
end

--- What happens when the server attaches to a buffer.
---@param client vim.lsp.Client
---@param bufnr integer
local function on_attach(client, bufnr)
  local opts = M.options
  if opts.inline_completion and vim.lsp.inline_completion then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  end
  if opts.commands then
    create_commands(bufnr)
  end
  if opts.keymaps and vim.lsp.inline_completion then
    create_keymaps(bufnr, opts.keymaps)
  end
  vim.b[bufnr].vibethinker_client_id = client.id
end

--- Autocommands: attach per buffer, follow progress, forget stopped clients.
local function create_autocmds()
  local group = vim.api.nvim_create_augroup('vibethinker', { clear = true })
  local function ours(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    return client and client.name == 'vibethinker' and client or nil
  end
  vim.api.nvim_create_autocmd('LspAttach', {
    group = group,
    callback = function(args)
      local client = ours(args)
      if client then
        on_attach(client, args.buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd('LspProgress', {
    group = group,
    callback = function(args)
      if ours(args) and args.data.params then
        status.progress(args.data.client_id, args.data.params.token, args.data.params.value)
      end
    end,
  })
  vim.api.nvim_create_autocmd('LspDetach', {
    group = group,
    callback = function(args)
      local client = ours(args)
      if client and vim.tbl_count(client.attached_buffers) <= 1 then
        status.forget(client.id)
      end
    end,
  })
end

--- Warn once, on the first buffer of a supported filetype, that the server cannot be found.
---@param message string
---@param filetypes string[]
local function warn_missing(message, filetypes)
  vim.api.nvim_create_autocmd('FileType', {
    group = vim.api.nvim_create_augroup('vibethinker.missing', { clear = true }),
    pattern = filetypes,
    once = true,
    callback = function()
      vim.schedule(function() -- after the file is shown, not as an error inside its FileType event
        vim.notify(message, vim.log.levels.ERROR)
      end)
    end,
  })
end

--- A copy of a settings table whose empty tables are JSON objects (`{}`), never arrays (`[]`).
---@param value any
---@return any
local function as_json_object(value)
  if type(value) ~= 'table' then
    return value
  end
  if vim.tbl_isempty(value) then
    return vim.empty_dict()
  end
  local copy = {}
  for key, item in pairs(value) do
    copy[key] = as_json_object(item)
  end
  return copy
end

--- Warn, in one sentence, about keys of setup()'s options that it does not know (they are ignored).
---@param opts table
function M.warn_unknown_keys(opts)
  local unknown = {}
  for key in pairs(opts) do
    if not vim.tbl_contains(M.option_keys, key) then
      table.insert(unknown, ('`%s`'):format(tostring(key)))
    end
  end
  if #unknown == 0 then
    return
  end
  table.sort(unknown)
  local message = 'VibeThinker: setup() ignores the unknown option(s) %s; it reads %s, and server settings '
    .. 'such as `model` go under `settings`.'
  vim.notify(
    message:format(table.concat(unknown, ', '), table.concat(M.option_keys, ', ')),
    vim.log.levels.WARN
  )
end

--- Configure and enable the server; turn on inline completion, commands and key maps where it attaches.
---@param opts? vibethinker.Options
function M.setup(opts)
  vim.validate('opts', opts, 'table', true)
  opts = opts or {}
  M.warn_unknown_keys(opts)
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts)
  for _, key in ipairs({ 'cmd', 'filetypes', 'root_markers' }) do
    if opts[key] ~= nil then
      M.options[key] = vim.deepcopy(opts[key]) -- a list replaces the default list
    end
  end
  if opts.keymaps == false then
    M.options.keymaps = false
  end
  local settings = as_json_object(M.options.settings or {})
  local cmd = M.base_cmd()
  local config = {
    cmd = vim.list_extend(vim.deepcopy(cmd), { 'serve' }),
    init_options = settings,
    settings = { vibethinker = settings },
  }
  config.filetypes = M.options.filetypes
  config.root_markers = M.options.root_markers
  vim.lsp.config('vibethinker', config)
  create_autocmds()
  local missing = M.missing_server(cmd)
  if missing then
    warn_missing(missing, M.options.filetypes or vim.lsp.config.vibethinker.filetypes or {})
    return
  end
  vim.lsp.enable('vibethinker')
end

return M
