-- :VibeRunExamples runs the function on its examples in the sandbox; failures become diagnostics.
return function(H, params)
  H.client()
  H.cursor_on(params.function_line)
  vim.cmd('VibeRunExamples')
  local diagnostics = H.wait(function()
    local found = vim.diagnostic.get(0)
    return #found > 0 and found
  end, 'diagnostics from the example run', 30000)
  local out = {}
  for _, d in ipairs(diagnostics) do
    table.insert(out, { lnum = d.lnum, severity = d.severity, source = d.source, message = d.message })
  end
  return { diagnostics = out }
end
