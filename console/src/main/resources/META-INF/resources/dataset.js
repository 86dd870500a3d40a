// The dataset page's token-length histogram: uPlot bars over the buckets of the table below it (one
// bar per power-of-two bucket, labelled by its upper bound), so the numbers stay readable without it.
(function () {
  const rows = Array.from(document.querySelectorAll('#length-buckets tr[data-up-to]'));
  const upTo = rows.map((row) => Number(row.dataset.upTo));
  const index = upTo.map((_, i) => i);
  const examples = rows.map((row) => Number(row.dataset.examples));
  const element = document.getElementById('length-histogram');
  const options = {
    width: Math.max(element.clientWidth, 300), height: 220,
    scales: { x: { time: false, range: [-0.5, Math.max(upTo.length - 0.5, 0.5)] } },
    axes: [
      { label: 'tokens (up to)', splits: () => index, values: (u, splits) => splits.map((i) => '≤' + upTo[i]) },
      { label: 'examples' },
    ],
    series: [
      { label: 'up to tokens', value: (u, i) => (i == null ? '' : '≤' + upTo[i]) },
      { label: 'examples', fill: '#93c5fd', stroke: '#2563eb', paths: uPlot.paths.bars({ size: [0.8, 80] }), points: { show: false } },
    ],
  };
  window.lengthHistogram = new uPlot(options, [index, examples], element); // read by the browser test
})();
