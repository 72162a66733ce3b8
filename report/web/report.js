// fleetsim study report: draws the tables and charts of report.html from the
// study.json embedded in the page. Every number shown is read from that
// JSON; this script only formats and lays them out (no figure is derived
// here). Charts use Apache ECharts' SVG renderer with animation off, so a
// headless browser prints them complete.
(function () {
  'use strict';
  const study = JSON.parse(document.getElementById('study-data').textContent);
  const main = document.getElementById('report');
  main.textContent = '';

  // ---- formatting ---------------------------------------------------------
  // signDisplay 'negative': a difference that rounds to zero prints as 0, not
  // -0 (two fleets of equal power differ by float rounding).
  const usdFormat = new Intl.NumberFormat('en-US', {
    style: 'currency', currency: 'USD', maximumFractionDigits: 0,
    signDisplay: 'negative'});
  const usdCentsFormat = new Intl.NumberFormat('en-US', {
    style: 'currency', currency: 'USD', minimumFractionDigits: 2,
    maximumFractionDigits: 3, signDisplay: 'negative'});
  const compactUsdFormat = new Intl.NumberFormat('en-US', {
    style: 'currency', currency: 'USD', notation: 'compact',
    maximumFractionDigits: 2, signDisplay: 'negative'});
  const percentFormat = new Intl.NumberFormat('en-US', {
    style: 'percent', maximumFractionDigits: 1, signDisplay: 'negative'});
  const numberFormat = new Intl.NumberFormat('en-US', {
    maximumFractionDigits: 3});
  const kwFormat = new Intl.NumberFormat('en-US', {
    minimumFractionDigits: 1, maximumFractionDigits: 1,
    signDisplay: 'negative'});
  const usd = (v) => usdFormat.format(v || 0);
  const usdCents = (v) => usdCentsFormat.format(v || 0);
  const usdCompact = (v) => compactUsdFormat.format(v || 0);
  const num = (v) => numberFormat.format(v || 0);
  const kw = (v) => kwFormat.format(v || 0) + ' kW';
  const seconds = (v) => numberFormat.format(v || 0) + ' s';
  const enumName = (v, prefix) =>
    String(v || '').replace(prefix, '').toLowerCase() || 'unspecified';
  // The median, with the seeds' range on a second, smaller line.
  const spreadCell = (s, fmt) => {
    s = s || {};
    const lines = [fmt(s.median)];
    if (s.min !== s.max) {
      lines.push(el('br'), el('span', {class: 'range'},
                              fmt(s.min) + ' to ' + fmt(s.max)));
    }
    return {text: lines, cls: 'num'};
  };
  // "h100 colocated"; machines already owned are their own pool.
  const poolLabel = (p) => (p.owned ? 'owned ' : '') + p.chip + ' ' + p.role;
  const poolsText = (pools) =>
      pools.map((p) => p.machines + ' ' + poolLabel(p)).join(' + ');
  const fleetText = (fleet) => poolsText(fleet.pools || []);
  // "keep 2 owned h100 colocated, buy 1 h200 colocated".
  const purchaseText = (fleet) => {
    const pools = fleet.pools || [];
    const owned = pools.filter((p) => p.owned);
    const bought = pools.filter((p) => !p.owned);
    return (owned.length ? 'keep ' + poolsText(owned) + ', ' : '') +
        (bought.length ? 'buy ' + poolsText(bought) : 'buy nothing');
  };

  // ---- DOM helpers --------------------------------------------------------
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of [].concat(children || [])) {
      node.appendChild(typeof child === 'string' || typeof child === 'number'
          ? document.createTextNode(String(child)) : child);
    }
    return node;
  }
  function section(title, intro) {
    main.appendChild(el('h2', {}, title));
    if (intro) main.appendChild(el('p', {class: 'note'}, intro));
  }
  // rows: arrays of cells; a cell is text or {text, cls}.
  function table(headers, rows, attrs) {
    const head = el('tr', {}, headers.map((h) => el('th', {}, h)));
    const body = rows.map((row) => {
      const cells = (row.cells || row).map((c) =>
          (c !== null && typeof c === 'object' && !(c instanceof Node) &&
           !Array.isArray(c))
              ? el('td', c.cls ? {class: c.cls} : {}, c.text)
              : el('td', {}, c));
      return el('tr', row.cls ? {class: row.cls} : {}, cells);
    });
    main.appendChild(el('table', attrs || {}, [el('thead', {}, head),
                                               el('tbody', {}, body)]));
  }
  const charts = [];
  function chart(name, option) {
    const node = el('div', {class: 'chart', id: 'chart-' + name,
                            'data-chart': name});
    main.appendChild(node);
    const instance = echarts.init(node, null, {renderer: 'svg'});
    instance.setOption(Object.assign({animation: false,
                                      textStyle: {fontSize: 11}}, option));
    charts.push(instance);
  }

  const variants = study.variants || [];
  const spec = study.spec || {};
  const provenance = study.provenance || {};
  const seeds = provenance.seeds || [];
  const feasible = variants.filter((v) => v.feasible);
  const palette = ['#2f6db3', '#d9822b', '#3a9b5c', '#b3413b', '#7b5ea7',
                   '#8c6d31', '#d16ba5', '#5c6b73', '#1b9aaa', '#a4a23b'];
  const colourOf = (i) => palette[i % palette.length];

  document.getElementById('subtitle').textContent =
      'Study "' + (spec.name || '') + '": ' + variants.length +
      ' variant(s), each planned over ' + seeds.length +
      ' arrival seed(s); baseline "' + study.baseline + '". ' +
      'Generated ' + (provenance.generated_utc || '') + ' by fleetsim ' +
      (provenance.fleetsim_version || '') + '.';

  // ---- recommendation -----------------------------------------------------
  section('Recommendation per variant',
      'The fleet each variant recommends (objective: ' +
      enumName((variants[0] || {request: {}}).request.objective,
               'PLAN_OBJECTIVE_') +
      ') among the fleets that met every SLO on every seed. Dollars are ' +
      'medians over the seeds (range in brackets when they differ); power ' +
      'is the facility draw (IT power x PUE) at the simulated load. Savings ' +
      'are against the baseline variant\'s recommendation.');
  const variantCell = (v) => [el('b', {}, v.name + (v.baseline ? ' (baseline)' : '')),
                               el('br'), el('span', {class: 'range'}, v.description)];
  const firstTco = (feasible[0] || {recommended: {tco: {}}}).recommended.tco;
  table(['Variant', 'Recommended fleet',
         'TCO over ' + num(firstTco.amortization_years) + ' years',
         'Capex', 'Opex / year', 'Facility power', '$ / M output tokens',
         'Saving vs baseline'],
      variants.map((v) => {
        const r = v.recommended || {};
        const t = r.tco || {};
        const saving = v.saving || {};
        const savingText = v.baseline ? 'baseline'
            : saving.comparable
                ? [usd(saving.tco_usd) + ' (' +
                       percentFormat.format(saving.fraction) + ')',
                   el('br'), 'power saved: ' + kw(saving.facility_power_kw)]
                : 'not comparable: ' + saving.reason;
        if (!v.feasible) {
          return {cls: v.baseline ? 'baseline' : '', cells: [
              variantCell(v),
              {text: 'no fleet met the SLOs on every seed: ' + v.explanation,
               cls: 'warn'}, '', '', '', '', '', savingText]};
        }
        const tcoCell = spreadCell(r.tco_usd, usd);
        if (t.amortization_years !== firstTco.amortization_years) {
          tcoCell.text.push(el('br'), 'over ' + num(t.amortization_years) +
                                          ' years');
        }
        tcoCell.text.push(el('br'), el('span', {class: 'range'},
            enumName(t.cost_basis, 'COST_BASIS_') + ' basis'));
        return {cls: v.baseline ? 'baseline' : '', cells: [
            variantCell(v),
            [fleetText(r), el('br'),
             el('span', {class: 'range'},
                r.machines + ' machines, ' + r.system)],
            tcoCell,
            {text: usd(r.capex_usd.median), cls: 'num'},
            {text: usd(r.opex_usd_per_year.median), cls: 'num'},
            spreadCell(r.facility_power_kw, kw),
            {text: usdCents(r.usd_per_million_output_tokens.median),
             cls: 'num'},
            savingText]};
      }), {class: 'wide'});
  for (const v of variants) {
    if (v.feasible) {
      main.appendChild(el('p', {class: 'recommendation'},
          v.name + ': ' + purchaseText(v.recommended) + ' for ' +
          usd(v.recommended.tco_usd.median) + ' over ' +
          num(v.recommended.tco.amortization_years) + ' years (' +
          kw(v.recommended.facility_power_kw.median) + ').'));
    }
  }

  // ---- cost vs power ------------------------------------------------------
  section('Cost against power',
      'Every fleet compared that met the SLOs on all seeds: median TCO ' +
      'against median facility power. Large markers are each variant\'s ' +
      'Pareto front (no other fleet is both cheaper and lower-power); the ' +
      'diamond is the recommendation. Variants priced on different bases ' +
      'share the axes but not the unit of cost.');
  if (feasible.length) {
    const series = [];
    variants.forEach((v, i) => {
      const robust = (v.fleets || []).filter((f) => f.robust);
      const point = (f) => ({value: [f.facility_power_kw.median,
                                     f.tco_usd.median],
                             name: fleetText(f)});
      series.push({name: v.name, type: 'scatter', color: colourOf(i),
                   data: robust.filter((f) => !f.on_front).map(point),
                   symbolSize: 7});
      series.push({name: v.name, type: 'scatter', color: colourOf(i),
                   data: robust.filter((f) => f.on_front).map(point),
                   symbolSize: 13});
      if (v.feasible) {
        series.push({name: v.name, type: 'scatter', color: colourOf(i),
                     symbol: 'diamond', symbolSize: 18,
                     data: [point(v.recommended)],
                     itemStyle: {borderColor: '#000', borderWidth: 1}});
      }
    });
    chart('pareto', {
      legend: {top: 0},
      grid: {left: 80, right: 20, top: 40, bottom: 50},
      tooltip: {trigger: 'item',
                formatter: (p) => p.seriesName + ': ' + p.name},
      xAxis: {type: 'value', name: 'facility power (kW)',
              nameLocation: 'middle', nameGap: 28, scale: true},
      yAxis: {type: 'value', name: 'TCO', scale: true,
              axisLabel: {formatter: usdCompact}},
      series: series,
    });
  } else {
    main.appendChild(el('p', {class: 'warn'}, 'No variant has a feasible fleet.'));
  }

  // ---- composition --------------------------------------------------------
  section('Fleet composition',
      'Machines of each chip and role in each variant\'s recommendation.');
  if (feasible.length) {
    const labels = [];
    for (const v of feasible) {
      for (const p of v.recommended.pools) {
        const label = poolLabel(p);
        if (!labels.includes(label)) labels.push(label);
      }
    }
    chart('composition', {
      legend: {top: 0},
      grid: {left: 110, right: 30, top: 40, bottom: 40},
      tooltip: {trigger: 'axis'},
      xAxis: {type: 'value', name: 'machines', nameLocation: 'middle',
              nameGap: 26},
      yAxis: {type: 'category', data: feasible.map((v) => v.name),
              inverse: true, axisLabel: {interval: 0}},
      series: labels.map((label, i) => ({
        name: label, type: 'bar', stack: 'machines', color: colourOf(i),
        label: {show: true},
        data: feasible.map((v) => {
          const pool = v.recommended.pools.find(
              (p) => poolLabel(p) === label);
          return pool ? pool.machines : null;
        }),
      })),
    });
  }

  // ---- latency against SLO ------------------------------------------------
  section('Latency against the SLO bounds',
      'Each SLO target of the recommended fleet as observed / bound ' +
      '(1 = at the bound): bars are the median over seeds, whiskers the ' +
      'lowest and highest seed.');
  if (feasible.length) {
    const targets = [];
    for (const v of feasible) {
      for (const s of v.recommended.slo || []) {
        const label = 'p' + s.percentile + ' ' + s.metric;
        if (!targets.includes(label)) targets.push(label);
      }
    }
    const sloOf = (v, label) => (v.recommended.slo || []).find(
        (s) => 'p' + s.percentile + ' ' + s.metric === label);
    const series = [];
    feasible.forEach((v, i) => {
      series.push({
        name: v.name, type: 'bar', color: colourOf(i),
        data: targets.map((t) => {
          const s = sloOf(v, t);
          return s ? s.fraction_of_limit.median : null;
        }),
        markLine: i === 0 ? {symbol: 'none', silent: true,
                             lineStyle: {color: '#b3413b', type: 'dashed'},
                             label: {formatter: 'SLO bound'},
                             data: [{yAxis: 1}]} : undefined,
      });
      series.push({
        name: v.name, type: 'custom', color: colourOf(i),
        renderItem: (params, api) => {
          const x = api.value(0);
          const low = api.coord([x, api.value(1)]);
          const high = api.coord([x, api.value(2)]);
          const band = api.size([1, 0])[0];
          const count = feasible.length;
          const offset = band * 0.8 * ((i + 0.5) / count - 0.5);
          const px = low[0] + offset;
          return {type: 'group', children: [
            {type: 'line', shape: {x1: px, y1: low[1], x2: px, y2: high[1]},
             style: {stroke: '#222', lineWidth: 1}},
            {type: 'line', shape: {x1: px - 3, y1: low[1], x2: px + 3,
                                   y2: low[1]},
             style: {stroke: '#222', lineWidth: 1}},
            {type: 'line', shape: {x1: px - 3, y1: high[1], x2: px + 3,
                                   y2: high[1]},
             style: {stroke: '#222', lineWidth: 1}}]};
        },
        encode: {x: 0, y: [1, 2]},
        data: targets.map((t, k) => {
          const s = sloOf(v, t);
          return s ? [k, s.fraction_of_limit.min, s.fraction_of_limit.max]
                   : [k, null, null];
        }),
        z: 10,
      });
    });
    chart('latency', {
      legend: {top: 0, data: feasible.map((v) => v.name)},
      grid: {left: 60, right: 20, top: 40, bottom: 40},
      tooltip: {trigger: 'axis'},
      xAxis: {type: 'category', data: targets, axisLabel: {interval: 0}},
      // Room for the bound's line when every target is well under it.
      yAxis: {type: 'value', name: 'observed / bound', min: 0,
              max: (extent) => Math.max(1.2, extent.max)},
      series: series,
    });
    table(['Variant'].concat(targets),
        feasible.map((v) => [v.name].concat(targets.map((t) => {
          const s = sloOf(v, t);
          if (!s) return '-';
          const unit = s.slowdown ? (x) => num(x) + 'x' : seconds;
          const cell = spreadCell(s.observed, unit);
          cell.text.splice(1, 0, ' of ' + unit(s.limit) +
                                     (s.met_every_seed ? '' : ' MISSED'));
          return cell;
        }))), {class: 'small'});
  }

  // ---- utilisation --------------------------------------------------------
  section('Utilisation',
      'Busy fraction of each pool of the recommended fleet (median over ' +
      'seeds, whiskers min to max): the share of time its instances ran ' +
      'an iteration.');
  if (feasible.length) {
    const categories = [];
    const values = [];
    for (const v of feasible) {
      for (const u of v.recommended.utilisation || []) {
        categories.push(v.name + ': ' + u.role + ' ' + u.chip);
        values.push(u.busy_fraction);
      }
    }
    chart('utilisation', {
      grid: {left: 60, right: 20, top: 20, bottom: 70},
      tooltip: {trigger: 'axis'},
      xAxis: {type: 'category', data: categories,
              axisLabel: {interval: 0, rotate: 20}},
      yAxis: {type: 'value', name: 'busy fraction', min: 0, max: 1},
      series: [
        {name: 'median', type: 'bar', color: colourOf(0),
         data: values.map((b) => b.median), label: {show: true,
             position: 'top', formatter: (p) => percentFormat.format(p.value)}},
        {name: 'min', type: 'scatter', symbol: 'rect', symbolSize: [10, 2],
         color: '#222', data: values.map((b) => b.min)},
        {name: 'max', type: 'scatter', symbol: 'rect', symbolSize: [10, 2],
         color: '#222', data: values.map((b) => b.max)},
      ],
    });
  }

  // ---- seed spread --------------------------------------------------------
  section('Spread over seeds',
      'Machines each seed alone would have bought (its own cheapest-by-' +
      'objective fleet), and the recommended fleet\'s TCO and p99 latencies ' +
      'over the seeds. A fleet is recommended only if it met the SLOs on ' +
      'every seed.');
  chart('seeds', {
    grid: {left: 60, right: 20, top: 30, bottom: 40},
    legend: {top: 0},
    tooltip: {trigger: 'axis'},
    xAxis: {type: 'category', data: variants.map((v) => v.name),
            axisLabel: {interval: 0}},
    yAxis: {type: 'value', name: 'machines', min: 0},
    series: [
      {name: 'median', type: 'bar', color: colourOf(0),
       data: variants.map((v) => v.machines.median)},
      {name: 'min', type: 'scatter', symbol: 'triangle', color: colourOf(2),
       data: variants.map((v) => v.machines.min)},
      {name: 'max', type: 'scatter', symbol: 'triangle', symbolRotate: 180,
       color: colourOf(3), data: variants.map((v) => v.machines.max)},
    ],
  });
  table(['Variant', 'Seeds', 'Machines per seed',
         'Machines min / median / max', 'Recommended fleet: TCO', 'TTFT p99',
         'TBT p99', 'End-to-end p99'],
      variants.map((v) => [
        v.name, (v.seeds || []).join(', '),
        (v.machines_per_seed || []).join(', '),
        num(v.machines.min) + ' / ' + num(v.machines.median) + ' / ' +
            num(v.machines.max),
        v.feasible ? spreadCell(v.recommended.tco_usd, usd) : '-',
        v.feasible ? spreadCell(v.recommended.ttft_p99_s, seconds) : '-',
        v.feasible ? spreadCell(v.recommended.tbt_p99_s, seconds) : '-',
        v.feasible ? spreadCell(v.recommended.e2e_p99_s, seconds) : '-']),
      {class: 'small'});

  // ---- sensitivity --------------------------------------------------------
  const bars = study.sensitivity || [];
  section('Sensitivity',
      'The baseline re-planned with one input swung low and high (the ' +
      'fleet is re-chosen each time): change in the recommended fleet\'s ' +
      'TCO against the baseline\'s ' +
      (bars.length ? usd(bars[0].base_tco_usd) : '') + '.');
  if (bars.length) {
    chart('tornado', {
      legend: {top: 0},
      grid: {left: 170, right: 40, top: 40, bottom: 40},
      tooltip: {trigger: 'axis'},
      xAxis: {type: 'value', name: 'TCO change', nameLocation: 'middle',
              nameGap: 26, axisLabel: {formatter: usdCompact}},
      yAxis: {type: 'category', data: bars.map((b) => b.label),
              inverse: true, axisLabel: {interval: 0}},
      series: [
        {name: 'low setting', type: 'bar', stack: 'swing',
         color: colourOf(0), data: bars.map((b) => b.low_delta_usd),
         label: {show: true, formatter: (p) => usdCompact(p.value)}},
        {name: 'high setting', type: 'bar', stack: 'swing',
         color: colourOf(1), data: bars.map((b) => b.high_delta_usd),
         label: {show: true, formatter: (p) => usdCompact(p.value)}},
      ],
    });
    table(['Input', 'Low: TCO, fleet', 'High: TCO, fleet'],
        bars.map((b) => [
          b.label,
          b.low_feasible ? usd(b.low_tco_usd) + ', ' + b.low_fleet
                         : 'no feasible fleet',
          b.high_feasible ? usd(b.high_tco_usd) + ', ' + b.high_fleet
                          : 'no feasible fleet']));
  } else {
    main.appendChild(el('p', {class: 'note'},
        'The study requested no sensitivity swings.'));
  }

  // ---- fleets compared ----------------------------------------------------
  section('Fleets compared',
      'Per variant, each seed\'s per-system cheapest fleets, its capex-TDP ' +
      'front and its recommendation, each simulated on every seed.');
  for (const v of variants) {
    main.appendChild(el('p', {}, [el('b', {}, v.name), ' (' +
        v.description + '), ' + num(v.offered_rate_per_s) + ' req/s offered; ' +
        v.simulations_run + ' simulations run, ' + v.simulations_reused +
        ' reused.' + (v.explanation ? ' ' + v.explanation : '')]));
    table(['Fleet', 'System', 'Met SLOs', 'TCO', 'Facility power',
           '$ / M tokens', 'TTFT p99', 'TBT p99', 'Front'],
        (v.fleets || []).map((f) => [
          fleetText(f), f.system,
          f.seeds_met + ' of ' + (v.seeds || []).length +
              (f.robust ? '' : ' (' + f.miss + ')'),
          spreadCell(f.tco_usd, usd),
          {text: kw(f.facility_power_kw.median), cls: 'num'},
          {text: usdCents(f.usd_per_million_output_tokens.median),
           cls: 'num'},
          {text: seconds(f.ttft_p99_s.median), cls: 'num'},
          {text: seconds(f.tbt_p99_s.median), cls: 'num'},
          f.on_front ? 'yes' : '']), {class: 'small'});
  }

  // ---- assumptions --------------------------------------------------------
  section('Assumptions',
      'Every price and site figure behind the dollars, with its source and ' +
      'date. Estimates (analyst figures or our own assumptions rather than ' +
      'quoted prices) are marked.');
  table(['Item', 'Value', 'Unit', 'Source', 'As of', 'Estimate', 'Where'],
      (study.assumptions || []).map((a) => [
        a.item, {text: num(a.value.value), cls: 'num'}, a.unit,
        a.value.source, a.value.as_of || '-',
        a.value.estimate ? {text: 'estimate', cls: 'estimate'} : 'quoted',
        a.scope]), {class: 'small'});

  // ---- provenance ---------------------------------------------------------
  section('Provenance', 'What produced this report.');
  table(['', ''], [
    ['fleetsim', (provenance.fleetsim_version || '') + ', commit ' +
                 (provenance.commit || '')],
    ['command line', {text: provenance.command_line || '', cls: 'mono'}],
    ['seeds', seeds.join(', ')],
    ['generated (UTC)', provenance.generated_utc || ''],
    ['PDF printed by', provenance.chromium || '-'],
    ['simulations', study.simulations_run + ' run, ' +
                    study.simulations_reused + ' reused from the cache, ' +
                    num(study.wall_s) + ' s wall'],
  ]);
  table(['Input', 'Path', 'SHA-256', 'Bytes'],
      (provenance.inputs || []).map((f) => [
        f.role, {text: f.path, cls: 'mono'}, {text: f.sha256, cls: 'mono'},
        {text: String(f.bytes), cls: 'num'}]), {class: 'small'});

  document.getElementById('footer').textContent =
      'Charts drawn with Apache ECharts ' + echarts.version +
      ' (Apache License 2.0; includes ZRender, BSD-3-Clause), inlined in ' +
      'this file. The numbers are those of study.json.';
  document.body.setAttribute('data-charts', String(charts.length));
})();
