// The job page's live curves: the console's /jobs/{id}/events (the training-service's event stream,
// passed on by the server with the session's key) feeds one uPlot chart per series. EventSource
// reconnects by itself with Last-Event-ID, so a dropped connection resumes without duplicates.
(function () {
  const charts = document.getElementById('charts');
  const status = document.getElementById('stream-status');
  const steps = [];
  const series = { loss: [], learningRate: [], gradNorm: [], tokensPerSecond: [] };
  const plots = {};

  function plot(key, elementId, label) {
    const element = document.getElementById(elementId);
    const options = {
      width: Math.max(element.clientWidth, 300), height: 200,
      scales: { x: { time: false } },
      series: [{ label: 'step' }, { label: label, stroke: '#2563eb', width: 2 }],
    };
    plots[key] = new uPlot(options, [steps, series[key]], element);
  }
  plot('loss', 'chart-loss', 'loss');
  plot('learningRate', 'chart-learning-rate', 'learning rate');
  plot('gradNorm', 'chart-grad-norm', 'grad norm');
  plot('tokensPerSecond', 'chart-tokens', 'tokens/s');
  window.jobCharts = plots; // read by the browser test

  const events = new EventSource(charts.dataset.events);
  events.onopen = () => { status.textContent = 'live'; };
  events.addEventListener('metrics', (message) => {
    const metrics = JSON.parse(message.data).metrics;
    if (!metrics) return;
    steps.push(metrics.step);
    for (const key of Object.keys(series)) series[key].push(metrics[key]);
    for (const key of Object.keys(plots)) plots[key].setData([steps, series[key]]);
    status.textContent = 'live: step ' + metrics.step + ' of ' + metrics.totalSteps;
  });
  // The stream ends after the job's terminal state; without close() EventSource would reconnect forever.
  const TERMINAL = ['succeeded', 'failed', 'cancelled'];
  events.addEventListener('state', (message) => {
    const event = JSON.parse(message.data);
    document.getElementById('job-state').textContent = event.state;
    if (TERMINAL.includes(event.state)) {
      events.close();
      status.textContent = 'finished: ' + event.state;
      // A page shown while the job ran offers Cancel; an ended job has nothing to cancel.
      const cancel = document.getElementById('cancel');
      if (cancel) cancel.closest('form').remove();
    }
  });
  events.onerror = () => {
    if (events.readyState === EventSource.CLOSED) status.textContent = 'stream closed';
    else status.textContent = 'reconnecting…';
  };
})();
