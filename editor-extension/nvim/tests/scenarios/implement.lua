-- :VibeImplement on the TODO line applies the verified code through codeAction/resolve.
return function(H, params)
  H.client()
  local progress = {}
  vim.api.nvim_create_autocmd('LspProgress', {
    callback = function(args)
      table.insert(progress, args.data.params.value.kind)
    end,
  })
  local tick = vim.b.changedtick
  H.cursor_on(params.todo)
  vim.cmd('VibeImplement')
  H.wait(function()
    return vim.b.changedtick ~= tick and not H.text():find('TODO', 1, true)
  end, 'the implement edit to land in the buffer', 30000)
  local statusline = H.wait(function()
    local line = require('vibethinker').statusline()
    return line:match('^VibeThinker: ready') and line
  end, 'the status line to say ready')
  return { text = H.text(), progress = progress, modified = vim.bo.modified, statusline = statusline }
end
