-- :VibeImplement starts a slow generation; :VibeCancel stops it through $/progress cancellation.
return function(H, params)
  local client = H.client()
  local before = H.text()
  H.cursor_on(params.todo)
  vim.cmd('VibeImplement')
  local running = H.wait(function()
    local current = require('vibethinker.status').get(client.id)
    return current and next(current.progress) and current.progress
  end, 'the implement job to report progress')
  vim.cmd('VibeCancel')
  H.wait(function()
    return next(require('vibethinker.status').get(client.id).progress) == nil
  end, 'the progress to end after :VibeCancel', 30000)
  H.wait(function()
    for _, message in ipairs(H.messages) do
      if message[1]:find('Cancelled', 1, true) then
        return true
      end
    end
  end, "the server's cancellation message")
  local titles = {}
  for _, job in pairs(running) do
    table.insert(titles, job.title)
  end
  return { unchanged = H.text() == before, titles = titles }
end
