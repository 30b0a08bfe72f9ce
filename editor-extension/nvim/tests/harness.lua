-- Test harness for driving a real Neovim from pytest (tests/e2e/test_nvim*.py).
--
-- A scenario file returns `function(H, params) ... return result end`. It runs as a coroutine on Neovim's
-- main loop, so typed keys, timers, LSP messages and autocommands are processed between its steps;
-- `H.wait(predicate, what)` yields until the predicate holds. When the scenario returns (or fails, or
-- runs out of time) the harness writes {ok, result | error, messages} as JSON to $VIBE_RESULT and quits.

local H = {}

H.messages = {} ---@type {[1]: string, [2]: integer?}[] everything passed to vim.notify
H.params = {}

vim.notify = function(message, level)
  table.insert(H.messages, { tostring(message), level })
end

local done = false

--- Write the outcome as JSON and quit Neovim.
---@param outcome table
local function finish(outcome)
  if done then
    return
  end
  done = true
  outcome.messages = H.messages
  local file = assert(io.open(assert(vim.env.VIBE_RESULT, '$VIBE_RESULT is not set'), 'w'))
  file:write(vim.json.encode(outcome))
  file:close()
  vim.schedule(function()
    vim.cmd('qall!')
  end)
end

local co ---@type thread

--- Resume the scenario; record its result when it ends or its error when it fails.
function H.resume()
  if done or coroutine.status(co) ~= 'suspended' then
    return
  end
  local ok, value = coroutine.resume(co)
  if not ok then
    finish({ ok = false, error = debug.traceback(co, tostring(value)) })
  elseif coroutine.status(co) == 'dead' then
    finish({ ok = true, result = value == nil and vim.NIL or value })
  end
end

--- Yield until `predicate()` returns a truthy value (which is returned); fail after `timeout_ms`.
---@param predicate fun(): any
---@param what string what is awaited, for the failure message
---@param timeout_ms? integer default 20000
function H.wait(predicate, what, timeout_ms)
  local deadline = vim.uv.now() + (timeout_ms or 20000)
  while true do
    local ok, value = pcall(predicate)
    if ok and value then
      return value
    end
    if vim.uv.now() > deadline then
      error(('timed out waiting for %s%s'):format(what, ok and '' or (' (last error: ' .. tostring(value) .. ')')), 2)
    end
    vim.defer_fn(H.resume, 20)
    coroutine.yield()
  end
end

--- Wait for the VibeThinker client to attach to the current buffer and return it.
---@return vim.lsp.Client
function H.client()
  return H.wait(function()
    return vim.lsp.get_clients({ name = 'vibethinker', bufnr = 0 })[1]
  end, 'the vibethinker client to attach to the buffer')
end

--- The current buffer's lines joined with newlines.
---@return string
function H.text()
  return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), '\n')
end

--- Put the cursor on the first line containing `needle` (plain text); returns the 1-based line.
---@param needle string
---@return integer
function H.cursor_on(needle)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, true)) do
    if line:find(needle, 1, true) then
      vim.api.nvim_win_set_cursor(0, { i, 0 })
      return i
    end
  end
  error(('no line contains %q'):format(needle), 2)
end

--- Type keys as the user would (mappings apply), processed once the scenario yields.
---@param keys string keys in <> notation
function H.type(keys)
  vim.api.nvim_feedkeys(vim.keycode(keys), 'mt', false)
end

--- Run a scenario file with the parameters in $VIBE_PARAMS (JSON); gives up after $VIBE_TIMEOUT_MS.
---@param path string
function H.run(path)
  local params_path = vim.env.VIBE_PARAMS
  if params_path and params_path ~= '' then
    H.params = vim.json.decode(table.concat(vim.fn.readfile(params_path), '\n'))
  end
  local scenario = dofile(path)
  co = coroutine.create(function()
    return scenario(H, H.params)
  end)
  vim.defer_fn(function()
    finish({ ok = false, error = 'the scenario did not finish in time' })
  end, tonumber(vim.env.VIBE_TIMEOUT_MS) or 45000)
  vim.schedule(H.resume)
end

return H
