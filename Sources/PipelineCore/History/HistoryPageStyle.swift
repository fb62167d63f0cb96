/// The history page's style sheet: light and dark colour schemes (`prefers-color-scheme`), a print
/// layout, and the charts' colours. Only local fonts; nothing is fetched.
enum HistoryPageStyle {
    static let css = """
        :root { color-scheme: light dark;
          --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --card: #f6f8fa; --border: #d1d9e0;
          --done: #1a7f37; --left: #bc4c00; --bar: #0969da; --fail: #cf222e; --grid: #d8dee4; --track: #e6eaef; }
        @media (prefers-color-scheme: dark) { :root {
          --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --card: #151b23; --border: #3d444d;
          --done: #3fb950; --left: #f0883e; --bar: #4493f8; --fail: #f85149; --grid: #2a313a; --track: #262c36; } }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--fg);
          font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif; }
        main { max-width: 1080px; margin: 0 auto; padding: 28px 32px 48px; }
        header h1 { font-size: 26px; margin: 0 0 2px; overflow-wrap: anywhere; }
        header p { margin: 0; color: var(--muted); }
        section { background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 18px 22px; margin-top: 18px;
          break-inside: avoid; }
        h2 { font-size: 17px; margin: 0 0 4px; }
        .hint { color: var(--muted); margin: 0 0 10px; font-size: 13.5px; }
        .headline .big { font-size: 44px; font-weight: 700; line-height: 1.1; }
        .headline .big small { font-size: 20px; font-weight: 500; color: var(--muted); }
        .progress { height: 14px; background: var(--track); border-radius: 7px; overflow: hidden; margin: 12px 0 10px; }
        .progress .fill { height: 100%; background: var(--done); border-radius: 7px; }
        .headline p { margin: 4px 0; }
        .estimate { font-size: 16px; }
        .tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0 0; padding: 0; }
        .tiles div { flex: 1 1 120px; background: var(--bg); border: 1px solid var(--border); border-radius: 8px; padding: 8px 12px; }
        .tiles dt { color: var(--muted); font-size: 13px; }
        .tiles dd { margin: 0; font-size: 20px; font-weight: 600; }
        .tiles .bad dd { color: var(--fail); }
        .legend { display: flex; gap: 18px; font-size: 13.5px; color: var(--muted); margin: 0 0 6px; }
        .swatch { display: inline-block; width: 14px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: middle; }
        .swatch.done { background: var(--done); } .swatch.left { background: var(--left); } .swatch.bar { background: var(--bar); }
        svg.chart { display: block; width: 100%; height: auto; }
        svg text { font: 13px system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; fill: var(--muted); }
        .axis .grid { stroke: var(--grid); stroke-width: 1; }
        .axis .base { stroke: var(--muted); stroke-width: 1; }
        .done-area { fill: var(--done); fill-opacity: 0.16; }
        .done-line { fill: none; stroke: var(--done); stroke-width: 2.5; stroke-linejoin: round; }
        .left-line { fill: none; stroke: var(--left); stroke-width: 2; stroke-dasharray: 6 4; }
        .done-dot { fill: var(--done); } .left-dot { fill: var(--left); }
        .bar { fill: var(--bar); }
        .fail-bar { fill: var(--fail); }
        .category .label { fill: var(--fg); font-size: 13px; }
        .category .value { fill: var(--fg); font-weight: 600; }
        .empty { text-align: center; padding: 28px 22px; }
        .empty p { margin: 6px 0; }
        code { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; background: var(--bg); border: 1px solid var(--border);
          border-radius: 4px; padding: 1px 5px; }
        table.runs { width: 100%; border-collapse: collapse; font-size: 13.5px; }
        .runs th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 2px solid var(--border); padding: 6px 8px; }
        .runs td { border-bottom: 1px solid var(--border); padding: 5px 8px; white-space: nowrap; }
        .runs .num { text-align: right; font-variant-numeric: tabular-nums; }
        .runs .runner { color: var(--muted); white-space: normal; overflow-wrap: anywhere; font-size: 12.5px; }
        .runs .bad { color: var(--fail); font-weight: 600; }
        .warn { color: var(--left); font-weight: 600; }
        .note { color: var(--muted); font-size: 13.5px; margin: 0 0 8px; }
        footer { color: var(--muted); font-size: 12.5px; margin-top: 22px; }
        @media print {
          :root { color-scheme: light; --bg: #ffffff; --fg: #000000; --muted: #444c56; --card: #ffffff; --border: #bbbbbb;
            --done: #1a7f37; --left: #bc4c00; --bar: #0969da; --fail: #cf222e; --grid: #dddddd; --track: #e6eaef; }
          * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
          main { max-width: none; padding: 0; }
          section { border-radius: 0; }
          .runs tr { break-inside: avoid; }
        }
        """
}
