-- What the server last said about itself: `vibethinker/status` notifications (model state, sandbox level)
-- and its `$/progress` work (title, message, token), per client, plus a status line string.

local M = {}

---@class vibethinker.Status
---@field model? string   model name
---@field state? string   idle | loading | ready | generating | error
---@field detail? string  e.g. "12 tokens/s" or the load error
---@field sandbox? string sandbox isolation level, from the first notification
---@field progress table<string|integer, {title: string, message?: string, percentage?: integer}>

---@type table<integer, vibethinker.Status>
local by_client = {}

--- The record for one client, created on first use.
---@param client_id integer
---@return vibethinker.Status
local function record(client_id)
  by_client[client_id] = by_client[client_id] or { progress = {} }
  return by_client[client_id]
end

--- Merge a `vibethinker/status` notification (fields missing from it keep their last value).
---@param client_id integer
---@param params table
function M.update(client_id, params)
  if type(params) ~= 'table' then
    return
  end
  local status = record(client_id)
  for _, key in ipairs({ 'model', 'state', 'detail', 'sandbox' }) do
    if type(params[key]) == 'string' then
      status[key] = params[key]
    end
  end
  M.changed()
end

--- Track one `$/progress` value (begin/report/end) for a client.
---@param client_id integer
---@param token string|integer
---@param value table
function M.progress(client_id, token, value)
  if type(value) ~= 'table' then
    return
  end
  local jobs = record(client_id).progress
  if value.kind == 'end' then
    jobs[token] = nil
  elseif value.kind == 'begin' then
    jobs[token] = { title = value.title or '', message = value.message, percentage = value.percentage }
  elseif jobs[token] then
    jobs[token].message = value.message or jobs[token].message
    jobs[token].percentage = value.percentage or jobs[token].percentage
  end
  M.changed()
end

--- Forget a client that stopped.
---@param client_id integer
function M.forget(client_id)
  by_client[client_id] = nil
  M.changed()
end

--- The status of a client (a copy), or nil when it has said nothing yet.
---@param client_id integer
---@return vibethinker.Status?
function M.get(client_id)
  return by_client[client_id] and vim.deepcopy(by_client[client_id])
end

--- Tell status lines and user autocommands (`User VibeThinkerStatus`) that something changed.
function M.changed()
  vim.schedule(function()
    vim.api.nvim_exec_autocmds('User', { pattern = 'VibeThinkerStatus', modeline = false })
    vim.cmd.redrawstatus({ bang = true })
  end)
end

--- The VibeThinker client attached to a buffer (or any running one), or nil.
---@param bufnr? integer
---@return vim.lsp.Client?
function M.client(bufnr)
  local clients = vim.lsp.get_clients({ name = 'vibethinker', bufnr = bufnr })
  if #clients == 0 and bufnr then
    clients = vim.lsp.get_clients({ name = 'vibethinker' })
  end
  return clients[1]
end

--- One line for the status line: model state, running jobs and the sandbox level; '' without a server.
--- Example: `VibeThinker: generating 35 tokens/s · Implement two_sum: 120 tokens · sandbox strong`.
---@param bufnr? integer buffer whose client to describe (default: current)
---@return string
function M.statusline(bufnr)
  local client = M.client(bufnr or vim.api.nvim_get_current_buf())
  if not client then
    return ''
  end
  local status = by_client[client.id]
  if not status then
    return 'VibeThinker: starting'
  end
  local parts = { 'VibeThinker: ' .. (status.state or 'starting') }
  local detail = status.detail or ''
  if status.state == 'generating' or status.state == 'error' or status.state == 'loading' then
    if detail ~= '' and detail ~= status.model then
      parts[1] = parts[1] .. ' ' .. detail
    end
  elseif status.state == 'ready' and detail:match('%d+ tokens/s') then
    parts[1] = parts[1] .. ' (' .. detail:match('%d+ tokens/s') .. ')'
  end
  for _, job in pairs(status.progress) do
    table.insert(parts, job.message and (job.title .. ': ' .. job.message) or job.title)
  end
  if status.sandbox then
    table.insert(parts, 'sandbox ' .. (status.sandbox:match('^(%S+)') or status.sandbox))
  end
  return table.concat(parts, ' · ')
end

return M
