/**
 * The report page as one string of HTML: no external scripts, styles, fonts or requests. Pure:
 * everything it shows comes in a ReportData, so it is tested without images or UMAP.
 */
import type { RunRecord, Scores } from "../run/record.js";
import { clusterColor, count, esc, fixed, jsonForScript } from "./html.js";

/** One shown member of a cluster. */
export interface ThumbView {
  id: string;
  confidence: number;
  /** Class name of the item, when the input has labels. */
  label: string | null;
  /** Image address (data: URI or a path relative to the report), or null without images. */
  src: string | null;
}

export interface ClusterView {
  index: number;
  size: number;
  names: string[];
  /** Mean confidence of the members, NaN when empty. */
  meanConfidence: number;
  /** Most frequent class among the members and its share, when labels exist. */
  majority: { name: string; share: number } | null;
  mostConfident: ThumbView[];
  leastConfident: ThumbView[];
}

export interface MapView {
  /** Points as parallel arrays: x, y in [0,1]; cluster; id; confidence; class name or null. */
  x: number[];
  y: number[];
  cluster: number[];
  id: string[];
  confidence: number[];
  label: (string | null)[] | null;
  /** Hover images: tile i of the atlas is point i. Null without images. */
  atlas: { src: string; tile: number; columns: number } | null;
  /** Total items, for "showing m of n". */
  total: number;
}

export interface ReportData {
  record: RunRecord;
  clusters: ClusterView[];
  map: MapView | null;
  /** Things the reader should know (map left out, thumbnails unavailable...). */
  notes: string[];
  generatedAt: string;
}

const THUMB_PX = 64;

export function renderReport(data: ReportData): string {
  const r = data.record;
  const title = `satc · ${r.input.name} · ${r.clusters.k} clusters`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(title)}</title>
<style>${STYLE}${clusterStyles(r.clusters.k)}</style>
</head>
<body>
<header>
<h1>${esc(r.input.name)} <span class="muted">· ${count(r.input.n)} items · ${r.clusters.k} clusters</span></h1>
<p class="muted">${esc(r.command)} · ${esc(r.createdAt)} · encoder ${esc(r.encoder.name)}${r.encoder.baseline ? ' <span class="badge">baseline, not CLIP</span>' : ""} · satc ${esc(r.satcVersion)}</p>
<nav>${renderNav(data)}</nav>
</header>
<main>
${data.notes.length > 0 ? `<aside class="notes">${data.notes.map((n) => `<p>${esc(n)}</p>`).join("")}</aside>` : ""}
${renderOverview(r)}
${renderMap(data)}
<section id="clusters"><h2>Clusters</h2>
${data.clusters.map((c) => renderCluster(c, r)).join("\n")}
</section>
${renderMetrics(r)}
${renderSettings(r)}
</main>
<footer class="muted">Report generated ${esc(data.generatedAt)} by satc ${esc(r.satcVersion)}. Opens from disk; no network.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

function clusterStyles(k: number): string {
  let css = "";
  for (let c = 0; c < k; c++) css += `.k${c}{--c:${clusterColor(c)}}`;
  return css;
}

function clusterTitle(c: { index: number; names: string[] }): string {
  return c.names.length > 0 ? `${c.index} · ${c.names.slice(0, 3).join(", ")}` : String(c.index);
}

function renderNav(data: ReportData): string {
  const links = [`<a href="#overview">Overview</a>`];
  if (data.map) links.push(`<a href="#map">Map</a>`);
  links.push(`<a href="#clusters">Clusters</a>`);
  if (data.record.metrics || data.record.confusion || data.record.runs?.some((s) => s.metrics)) links.push(`<a href="#metrics">Metrics</a>`);
  links.push(`<a href="#settings">Settings</a>`);
  const chips = data.clusters
    .map((c) => `<a class="chip k${c.index}" href="#cluster-${c.index}" title="${esc(`${c.size} items`)}">${esc(clusterTitle(c))}</a>`)
    .join("");
  return `${links.join(" ")}<div class="chips">${chips}</div>`;
}

function scoreCells(s: Scores | null | undefined): string {
  return `<td>${fixed(s?.acc, 4)}</td><td>${fixed(s?.nmi, 4)}</td><td>${fixed(s?.ari, 4)}</td>`;
}

function renderOverview(r: RunRecord): string {
  const cards: string[] = [];
  cards.push(card("items", count(r.input.n)));
  cards.push(card("clusters", String(r.clusters.k)));
  if (r.metrics) {
    cards.push(card("ACC", fixed(r.metrics.acc, 4)), card("NMI", fixed(r.metrics.nmi, 4)), card("ARI", fixed(r.metrics.ari, 4)));
  }
  if (r.text) cards.push(card("text view", `${r.text.used ? "used" : "not used"} (tau ${fixed(r.text.tau, 3)})`));
  const total = r.timings ? Object.values(r.timings).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) : 0;
  if (r.timings?.total !== undefined) cards.push(card("time", seconds(r.timings.total)));
  else if (total > 0) cards.push(card("time", seconds(total)));
  if (r.input.skipped.length > 0) cards.push(card("skipped", String(r.input.skipped.length)));
  const sizes = r.clusters.sizes;
  const max = Math.max(1, ...sizes);
  const bars = sizes
    .map((s, c) => `<a class="sizebar k${c}" href="#cluster-${c}" title="${esc(`cluster ${c}: ${s} items`)}" style="height:${Math.max(2, (s / max) * 100).toFixed(1)}%"></a>`)
    .join("");
  return `<section id="overview"><h2>Overview</h2><div class="cards">${cards.join("")}</div>
<div class="sizes" aria-label="cluster sizes">${bars}</div><p class="muted">Cluster sizes, cluster 0 on the left.</p></section>`;
}

function card(label: string, value: string): string {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value">${esc(value)}</div></div>`;
}

function seconds(s: number): string {
  if (!Number.isFinite(s)) return "–";
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function renderMap(data: ReportData): string {
  const m = data.map;
  if (!m) return "";
  const pad = 12;
  const side = 1000;
  const circles: string[] = [];
  for (let i = 0; i < m.x.length; i++) {
    const cx = Math.round(pad + m.x[i] * (side - 2 * pad));
    const cy = Math.round(pad + m.y[i] * (side - 2 * pad));
    circles.push(`<circle cx="${cx}" cy="${cy}" r="5" class="k${m.cluster[i]}" data-p="${i}"/>`);
  }
  const payload = {
    id: m.id,
    cluster: m.cluster,
    confidence: m.confidence.map((c) => Math.round(c * 1000) / 1000),
    label: m.label,
    tile: m.atlas?.tile ?? 0,
    columns: m.atlas?.columns ?? 0,
  };
  const legend = data.clusters
    .map((c) => `<button type="button" class="legend k${c.index}" data-k="${c.index}"><span class="dot"></span>${esc(clusterTitle(c))}</button>`)
    .join("");
  const shown = m.x.length < m.total ? `${count(m.x.length)} of ${count(m.total)} items (a seeded sample)` : `all ${count(m.total)} items`;
  return `<section id="map"><h2>Map</h2>
<p class="muted">UMAP of the global features, ${shown}, coloured by cluster. Hover a point to see its image; click a cluster below to highlight it.</p>
<div class="mapwrap"><svg id="map-svg" viewBox="0 0 ${side} ${side}" role="img" aria-label="2-D map of the items coloured by cluster">${circles.join("")}</svg>
<div id="tip" hidden><canvas width="96" height="96"></canvas><div class="tiptext"></div></div></div>
<div class="legendbox">${legend}</div>
${m.atlas ? `<img id="atlas" hidden alt="" src="${esc(m.atlas.src)}">` : ""}
<script type="application/json" id="map-data">${jsonForScript(payload)}</script>
</section>`;
}

function renderThumbs(list: ThumbView[], which: string): string {
  if (list.length === 0) return "";
  const items = list
    .map((t) => {
      const tip = `${t.id} · confidence ${fixed(t.confidence, 3)}${t.label !== null ? ` · class ${t.label}` : ""}`;
      const body = t.src !== null
        ? `<img src="${esc(t.src)}" alt="${esc(t.id)}" width="${THUMB_PX}" height="${THUMB_PX}">`
        : `<span class="noimg">${esc(t.id)}</span>`;
      return `<figure class="thumb" title="${esc(tip)}">${body}<figcaption>${fixed(t.confidence, 2)}</figcaption></figure>`;
    })
    .join("");
  return `<h4>${esc(which)}</h4><div class="grid">${items}</div>`;
}

function renderCluster(c: ClusterView, r: RunRecord): string {
  const share = r.input.n > 0 ? (100 * c.size) / r.input.n : 0;
  const facts = [esc(`${count(c.size)} items (${share.toFixed(1)}%)`), esc(`mean confidence ${fixed(c.meanConfidence, 3)}`)];
  if (c.majority) facts.push(`mostly ${esc(c.majority.name)} (${(100 * c.majority.share).toFixed(0)}%)`);
  const names = c.names.length > 0 ? `<p class="names">${c.names.map((n) => `<span class="name">${esc(n)}</span>`).join("")}</p>` : "";
  const body = c.size === 0
    ? `<p class="muted">This cluster is empty.</p>`
    : renderThumbs(c.mostConfident, "Most confident") + renderThumbs(c.leastConfident, "Least confident");
  return `<section class="cluster k${c.index}" id="cluster-${c.index}" data-cluster="${c.index}">
<h3><span class="dot"></span>Cluster ${esc(clusterTitle(c))}</h3>
<p class="facts">${facts.join(" · ")}</p>${names}
${body}
</section>`;
}

function renderMetrics(r: RunRecord): string {
  const parts: string[] = [];
  const runs = r.runs ?? [];
  if (r.metrics || runs.some((s) => s.metrics)) {
    const rows: string[] = [];
    if (r.metrics) rows.push(`<tr><th>reported run</th>${scoreCells(r.metrics)}</tr>`);
    if (r.summary) {
      rows.push(`<tr><th>mean of ${runs.length} seeds</th>${scoreCells(r.summary.mean)}</tr>`);
      rows.push(`<tr><th>std</th>${scoreCells(r.summary.std)}</tr>`);
    }
    if (r.eval?.metrics) rows.push(`<tr><th>held-out (${count(r.eval.n)} items)</th>${scoreCells(r.eval.metrics)}</tr>`);
    parts.push(`<table class="num"><thead><tr><th></th><th>ACC</th><th>NMI</th><th>ARI</th></tr></thead><tbody>${rows.join("")}</tbody></table>
<p class="muted">ACC: best one-to-one matching of clusters to classes (Hungarian). NMI: arithmetic-mean normalisation (scikit-learn's default). ARI: adjusted Rand index. Labels were used for these scores only.</p>`);
  }
  if (r.confusion) parts.push(renderConfusion(r.confusion, r, "Confusion matrix (clusters × classes)"));
  if (r.eval?.confusion) parts.push(renderConfusion(r.eval.confusion, r, "Held-out confusion matrix"));
  if (parts.length === 0) return "";
  return `<section id="metrics"><h2>Metrics</h2>${parts.join("\n")}</section>`;
}

function renderConfusion(m: number[][], r: RunRecord, caption: string): string {
  const classes = m[0]?.length ?? 0;
  const names = Array.from({ length: classes }, (_, j) => r.input.classNames?.[j] ?? `class ${j}`);
  const head = names.map((n) => `<th class="rot"><span>${esc(n)}</span></th>`).join("");
  const rows = m
    .map((row, c) => {
      const total = row.reduce((a, b) => a + b, 0);
      const cells = row
        .map((v) => {
          const a = total > 0 ? v / total : 0;
          return `<td style="background:rgba(78,121,167,${a.toFixed(2)});${a > 0.55 ? "color:#fff" : ""}">${v}</td>`;
        })
        .join("");
      const names = r.clusters.names?.[c]?.slice(0, 2).join(", ");
      return `<tr><th class="k${c}"><span class="dot"></span>${c}${names ? ` · ${esc(names)}` : ""}</th>${cells}<td class="total">${total}</td></tr>`;
    })
    .join("");
  return `<table class="confusion num"><caption>${esc(caption)}</caption><thead><tr><th>cluster</th>${head}<th>total</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function kv(rows: [string, string][]): string {
  return `<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join("")}</tbody></table>`;
}

function shown(value: unknown): string {
  return esc(typeof value === "string" ? value : JSON.stringify(value));
}

function renderSettings(r: RunRecord): string {
  const out: string[] = [];
  out.push(`<h3>Input</h3>${kv([
    ["name", esc(r.input.name)],
    ["source", esc(r.input.source)],
    ["items", count(r.input.n)],
    ["labels", r.input.hasLabels ? `yes${r.input.classNames ? ` (${r.input.classNames.length} classes)` : ""}` : "no"],
    ["skipped", String(r.input.skipped.length)],
    ...(r.evalInput ? [["held-out input", `${esc(r.evalInput.name)} (${count(r.evalInput.n)} items)`] as [string, string]] : []),
  ])}`);
  const enc: [string, string][] = [["name", esc(r.encoder.name) + (r.encoder.baseline ? " (baseline: resized pixels, not CLIP)" : "")]];
  for (const [k, v] of Object.entries(r.encoder.options ?? {})) enc.push([k, shown(v)]);
  out.push(`<h3>Encoder</h3>${kv(enc)}`);
  if (r.encoder.models?.length) {
    const rows = r.encoder.models
      .map((m) => `<tr><td>${esc(m.id)}</td><td>${esc(m.revision)}</td><td>${esc(m.file)}</td><td title="${esc(m.sha256)}"><code>${esc(m.sha256.slice(0, 12))}</code></td></tr>`)
      .join("");
    out.push(`<table><thead><tr><th>model</th><th>revision</th><th>file</th><th>sha256</th></tr></thead><tbody>${rows}</tbody></table>`);
  }
  if (r.features) out.push(`<p class="muted">Features: <code>${esc(r.features.global)}</code> (${r.features.dims.join(" × ")})</p>`);
  out.push(
    `<h3>Text view</h3>` +
      (r.text
        ? kv([
            ["mode", esc(r.text.mode)],
            ["tau", r.text.tau === null ? "not computed" : fixed(r.text.tau, 4)],
            ["threshold", fixed(r.text.threshold, 4)],
            ["decision", textDecision(r.text)],
          ])
        : `<p class="muted">The text view was not considered in this run.</p>`),
  );
  const runs = r.runs ?? [];
  if (runs.length > 0) {
    const rows = runs
      .map((s) => `<tr><td>${s.seed}</td>${scoreCells(s.metrics)}<td>${seconds(s.seconds)}</td><td>${s.iterations}</td><td>${s.warnings.map(esc).join("<br>")}</td></tr>`)
      .join("");
    out.push(`<h3>Seeds</h3><table class="num"><thead><tr><th>seed</th><th>ACC</th><th>NMI</th><th>ARI</th><th>time</th><th>iterations</th><th>warnings</th></tr></thead><tbody>${rows}</tbody></table>`);
  }
  const opts = Object.entries(r.options ?? {});
  if (opts.length > 0) out.push(`<h3>Options</h3>${kv(opts.map(([k, v]) => [k, shown(v)]))}`);
  const timings = Object.entries(r.timings ?? {});
  if (timings.length > 0) out.push(`<h3>Timings</h3>${kv(timings.map(([k, v]) => [k, seconds(v)]))}`);
  const versions = Object.entries(r.versions ?? {});
  if (versions.length > 0) out.push(`<h3>Versions</h3>${kv(versions.map(([k, v]) => [k, esc(v)]))}`);
  if (r.input.skipped.length > 0) {
    const shownSkipped = r.input.skipped.slice(0, 200);
    const more = r.input.skipped.length - shownSkipped.length;
    out.push(`<details id="skipped"><summary>${r.input.skipped.length} skipped items</summary><table><tbody>${shownSkipped
      .map((s) => `<tr><td>${esc(s.id)}</td><td>${esc(s.reason)}</td></tr>`)
      .join("")}</tbody></table>${more > 0 ? `<p class="muted">and ${more} more (see run.json)</p>` : ""}</details>`);
  }
  return `<section id="settings"><h2>Settings</h2>${out.join("\n")}</section>`;
}

const STYLE = `
:root{--fg:#1d2430;--muted:#667085;--line:#e4e7ec;--bg:#f7f8fa;--card:#fff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:var(--card);border-bottom:1px solid var(--line);padding:16px 24px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:18px;margin:0 0 12px}h3{font-size:15px;margin:16px 0 6px}h4{font-size:12px;font-weight:600;color:var(--muted);margin:10px 0 4px;text-transform:uppercase;letter-spacing:.04em}
main{padding:0 24px 24px;max-width:1400px;margin:0 auto}
main>section,main>aside{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;margin-top:16px}
.muted{color:var(--muted)}p{margin:4px 0}
nav a{margin-right:12px;color:#2f5d8a;text-decoration:none}nav a:hover{text-decoration:underline}
.chips{margin-top:6px;display:flex;flex-wrap:wrap;gap:4px;max-height:64px;overflow:auto}
.chip{font-size:12px;padding:1px 8px;border-radius:10px;border:1px solid var(--c);color:var(--fg)!important;margin:0!important;background:color-mix(in srgb,var(--c) 12%,#fff)}
.badge{background:#fff3cd;color:#7a5b00;border-radius:4px;padding:0 6px;font-size:12px}
.notes{background:#fffbea!important;border-color:#f5e3a3!important}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:100px}
.card .label{font-size:12px;color:var(--muted)}.card .value{font-size:18px;font-weight:600}
.sizes{display:flex;align-items:flex-end;gap:2px;height:60px;margin-top:12px}.sizebar{flex:1;background:var(--c);min-width:2px;border-radius:2px 2px 0 0}
.mapwrap{position:relative;max-width:760px}
#map-svg{width:100%;height:auto;border:1px solid var(--line);border-radius:6px;background:#fff}
#map-svg circle{fill:var(--c);fill-opacity:.75;stroke:#fff;stroke-width:.8}
#map-svg.focus circle{fill-opacity:.08}#map-svg.focus circle.on{fill-opacity:.95}
#map-svg circle:hover{stroke:#000;stroke-width:2}
#tip{position:absolute;pointer-events:none;background:#fff;border:1px solid #98a2b3;border-radius:6px;padding:6px;box-shadow:0 4px 12px rgba(0,0,0,.15);font-size:12px;max-width:220px;z-index:3}
#tip canvas{display:block;width:96px;height:96px;image-rendering:pixelated;margin-bottom:4px}
.legendbox{display:flex;flex-wrap:wrap;gap:4px;margin-top:8px}
.legend{font:inherit;font-size:12px;border:1px solid var(--line);background:#fff;border-radius:12px;padding:1px 8px;cursor:pointer}
.legend.on{border-color:var(--c);background:color-mix(in srgb,var(--c) 15%,#fff)}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;background:var(--c);margin-right:6px;vertical-align:baseline}
.cluster{border-top:1px solid var(--line);padding:10px 0 14px}.cluster:first-of-type{border-top:0}
.cluster h3{margin:6px 0 2px;font-size:16px}
.facts{color:var(--muted)}.names{margin:4px 0}.name{display:inline-block;background:#eef2f6;border-radius:4px;padding:0 6px;margin:0 4px 2px 0}
.grid{display:flex;flex-wrap:wrap;gap:6px}
.thumb{margin:0;text-align:center;font-size:11px;color:var(--muted)}
.thumb img{display:block;width:${THUMB_PX}px;height:${THUMB_PX}px;object-fit:contain;image-rendering:pixelated;background:#fff;border:1px solid var(--line);border-radius:4px}
.noimg{display:block;width:${THUMB_PX}px;height:${THUMB_PX}px;overflow:hidden;font-size:10px;border:1px dashed var(--line)}
table{border-collapse:collapse;margin:6px 0}th,td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
table.num td{text-align:right;font-variant-numeric:tabular-nums}
.kv th{font-weight:500;color:var(--muted);white-space:nowrap}
.confusion{font-size:12px}.confusion caption{text-align:left;font-weight:600;margin-bottom:4px}
.confusion th.rot{height:90px;vertical-align:bottom;white-space:nowrap}.confusion th.rot span{writing-mode:vertical-rl;transform:rotate(180deg)}
.confusion td.total{font-weight:600}
code{font-size:12px}
footer{padding:16px 24px}
`;

/** Hover and highlight on the map; nothing else needs script. */
const SCRIPT = `
(function(){
  var svg=document.getElementById('map-svg'); if(!svg) return;
  var data=JSON.parse(document.getElementById('map-data').textContent);
  var tip=document.getElementById('tip'), canvas=tip.querySelector('canvas'), text=tip.querySelector('.tiptext');
  var atlas=document.getElementById('atlas'), ctx=canvas.getContext('2d');
  if(!atlas) canvas.style.display='none';
  svg.addEventListener('mousemove',function(e){
    var t=e.target; if(!t||t.tagName!=='circle'){tip.hidden=true;return;}
    var p=+t.getAttribute('data-p');
    if(atlas&&atlas.complete&&data.tile>0){
      ctx.imageSmoothingEnabled=data.tile>=64; ctx.fillStyle='#fff'; ctx.fillRect(0,0,96,96);
      ctx.drawImage(atlas,(p%data.columns)*data.tile,Math.floor(p/data.columns)*data.tile,data.tile,data.tile,0,0,96,96);
    }
    text.textContent=data.id[p]+' \\u00b7 cluster '+data.cluster[p]+' \\u00b7 confidence '+data.confidence[p]+(data.label&&data.label[p]!==null?' \\u00b7 class '+data.label[p]:'');
    var box=svg.parentNode.getBoundingClientRect();
    var x=e.clientX-box.left+14, y=e.clientY-box.top+14;
    if(x+230>box.width) x=e.clientX-box.left-230;
    tip.style.left=x+'px'; tip.style.top=y+'px'; tip.hidden=false;
  });
  svg.addEventListener('mouseleave',function(){tip.hidden=true;});
  var on={};
  document.querySelectorAll('.legend').forEach(function(b){
    b.addEventListener('click',function(){
      var k=b.getAttribute('data-k'); if(on[k]) delete on[k]; else on[k]=true;
      b.classList.toggle('on',!!on[k]);
      var any=Object.keys(on).length>0; svg.classList.toggle('focus',any);
      svg.querySelectorAll('circle').forEach(function(c){c.classList.toggle('on',!!on[c.getAttribute('class').split(' ')[0].slice(1)]);});
    });
  });
})();
`;

/** "used (tau > threshold)", "not used (forced off)", "not available (why)". */
function textDecision(t: NonNullable<RunRecord["text"]>): string {
  if (t.unavailable) return `not available (${esc(t.unavailable)})`;
  const why = t.mode === "auto" && t.tau !== null ? `tau ${t.tau > t.threshold ? ">" : "<="} threshold` : `forced ${esc(t.mode)}`;
  return `${t.used ? "used" : "not used"} (${why})`;
}
