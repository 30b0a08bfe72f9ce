-- :VibeExplain (hover) on a function: a floating window with the estimate and the model's explanation.
return function(H, params)
  H.client()
  H.cursor_on(params.function_line)
  vim.cmd('VibeExplain')
  local lines = H.wait(function()
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= '' then
        return vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
      end
    end
  end, 'the hover window', 30000)
  return { hover = lines }
end
