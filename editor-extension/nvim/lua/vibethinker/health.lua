-- :checkhealth vibethinker — the server command, its version, and what `vibethinker-lsp doctor` reports
-- (model, GPU, sandbox isolation level), plus the state of a running server.

local M = {}

local health = vim.health

--- Run a command to completion; returns (stdout, nil) or (nil, one-line reason).
---@param cmd string[]
---@param env? table<string, string>
---@return string?, string?
local function run(cmd, env)
  local ok, proc = pcall(vim.system, cmd, { text = true, env = env })
  if not ok then
    return nil, tostring(proc)
  end
  local result = proc:wait(30000)
  if result.code ~= 0 then
    local stderr = vim.trim(result.stderr or '')
    local reason = stderr ~= '' and stderr:gsub('\n.*$', '') or ('exit status ' .. result.code)
    return nil, reason
  end
  return result.stdout or '', nil
end

--- The configured settings value at a dotted path, or nil.
---@param settings table
---@param path string
local function setting(settings, path)
  return vim.tbl_get(settings, unpack(vim.split(path, '.', { plain = true })))
end

local function check_neovim()
  health.start('Neovim')
  if vim.fn.has('nvim-0.11') == 0 then
    health.error('Neovim 0.11 or newer is needed (vim.lsp.config and vim.lsp.enable).')
  else
    health.ok('Neovim ' .. tostring(vim.version()))
  end
  if vim.lsp.inline_completion then
    health.ok('inline completion (ghost text) is available')
  else
    health.warn('Inline completion needs Neovim 0.12; code actions, hover and diagnostics still work.')
  end
end

--- Check the server command and its version; returns the base command when it runs.
---@param cmd string[]
---@return string[]?
local function check_server(cmd)
  health.start('vibethinker-lsp')
  local path = vim.fn.exepath(cmd[1])
  if path == '' then
    health.error(('server not found: `%s` is not executable'):format(cmd[1]), {
      'Install it: `pip install -e .` in the vibethinker-lsp checkout.',
      "Or point the plugin at it: require('vibethinker').setup({ cmd = { '/path/to/vibethinker-lsp' } })",
      "Or at a Python that has it: require('vibethinker').setup({ python = '/path/to/python' })",
    })
    return nil
  end
  health.ok(('server found: %s'):format(table.concat(vim.list_extend({ path }, vim.list_slice(cmd, 2)), ' ')))
  local version, err = run(vim.list_extend(vim.deepcopy(cmd), { '--version' }))
  if not version then
    health.error('`--version` failed: ' .. err, { 'Run the command in a terminal to see the whole error.' })
    return nil
  end
  health.ok('version: ' .. vim.trim(version))
  return cmd
end

---@param report table doctor's "model" section
---@param settings table
---@param gpu table doctor's "gpu" section
local function check_model(report, settings, gpu)
  health.start('Model')
  local backend = setting(settings, 'model.backend') or 'transformers'
  local name = setting(settings, 'model.name') or report.name
  if backend == 'openai' then
    local url = setting(settings, 'model.baseUrl') or 'http://127.0.0.1:8000/v1'
    health.ok(('answers from the OpenAI-compatible server at %s (model %s)'):format(url, name))
  elseif report.cached then
    health.ok(('model %s is in the cache (%s)'):format(name, report.cache))
  else
    health.warn(('model %s is not downloaded yet (cache: %s)'):format(name, report.cache), {
      report.hint ~= '' and report.hint or ('run `vibethinker-lsp download ' .. name .. '`'),
      'or use a model server: settings = { model = { backend = "openai", baseUrl = "http://host:8000/v1" } }',
    })
  end
  if gpu.available then
    health.ok(('GPU: %s%s'):format(gpu.name or gpu.device, gpu.memory_gb and (' (' .. gpu.memory_gb .. ' GB)') or ''))
  elseif backend == 'openai' then
    health.info('no GPU here; not needed with the openai backend')
  else
    health.warn('no GPU: ' .. (gpu.detail or 'the model runs on the CPU (slow)'), {
      'Serve the model on a GPU machine (vLLM, SGLang) and use the openai backend.',
    })
  end
end

---@param sandbox table doctor's "sandbox" section
local function check_sandbox(sandbox)
  health.start('Sandbox')
  local level = sandbox.level or 'unknown'
  if level:match('^strong') then
    health.ok('sandbox: ' .. level)
  else
    local reason = sandbox.strong_unavailable_reason
    health.warn('sandbox: ' .. level .. ((reason and reason ~= '') and (' (' .. reason .. ')') or ''), {
      'Candidates run with weaker isolation; install bubblewrap (`apt install bubblewrap`) for the strong sandbox.',
    })
  end
end

--- Run `doctor --json` and report model, GPU, sandbox and versions.
---@param cmd string[]
---@param settings table
local function check_doctor(cmd, settings)
  local env = nil
  local name = setting(settings, 'model.name')
  if type(name) == 'string' and name ~= '' then
    env = { VIBETHINKER_MODEL = name }
  end
  local out, err = run(vim.list_extend(vim.deepcopy(cmd), { 'doctor', '--json' }), env)
  local ok, report = pcall(vim.json.decode, out or '')
  if not out or not ok or type(report) ~= 'table' then
    health.start('Doctor')
    health.error('`doctor --json` failed: ' .. (err or 'its output is not JSON'))
    return
  end
  check_model(report.model or {}, settings, report.gpu or {})
  check_sandbox(report.sandbox or {})
  health.start('Versions')
  local versions = {}
  for dist, version in vim.spairs(report.versions or {}) do
    table.insert(versions, dist .. ' ' .. tostring(version))
  end
  local server = report.server or {}
  health.info(('Python %s; %s'):format(server.python or '?', table.concat(versions, ', ')))
end

local function check_running()
  health.start('Running server')
  local clients = vim.lsp.get_clients({ name = 'vibethinker' })
  if #clients == 0 then
    health.info('not running: it starts when you open a file of a language it reads (Python, C++, ...)')
    return
  end
  local status = require('vibethinker.status')
  for _, client in ipairs(clients) do
    local current = status.get(client.id) or {}
    health.ok(
      ('client %d (root %s): %d buffer(s), model %s: %s%s'):format(
        client.id,
        client.root_dir or '-',
        vim.tbl_count(client.attached_buffers),
        current.model or '?',
        current.state or 'starting',
        current.sandbox and (', sandbox ' .. current.sandbox) or ''
      )
    )
  end
end

--- Entry point for :checkhealth vibethinker.
function M.check()
  local plugin = require('vibethinker')
  check_neovim()
  local cmd = check_server(plugin.configured_cmd())
  if cmd then
    check_doctor(cmd, plugin.configured_settings())
  end
  check_running()
end

return M
