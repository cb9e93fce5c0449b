// The network map, drawn by vis-network (bundled with pyvis, loaded before this script) into `root`: the legend
// above the map, never over it, then the map. Used twice, with the same data: by the page's map component
// (atlas.app.network_map) and by the self-contained map document (network.html, the download).
//
// `data` is MapDrawing.data(): nodes, edges and options as vis-network takes them (positions laid out on the
// server, physics off; tooltips are plain strings, which vis-network shows with innerText, never as HTML),
// the legend as HTML written by the server with autoescaping (network_legend.html: nothing in it is raw data),
// the map's height in pixels and its alternative text (what it shows, said when its frame is reached).
// Draws the map in `root` in place of any it drew before (leaving the rest: the component's stylesheet);
// returns the clean-up that takes it down (the component calls it when the map leaves the page).
function drawMap(root, data) {
  // the component calls this again with new data without taking the old map down first: take it down here
  for (const old of [...root.children].filter(child => child.classList.contains("atlas-map"))) {
    old.visNetwork?.destroy();
    old.remove();
  }
  const frame = document.createElement("div");
  frame.className = "atlas-map";
  frame.style.height = `${data.height}px`;
  const legend = document.createElement("div");
  legend.className = "legend";
  legend.innerHTML = data.legend;
  const map = document.createElement("div");
  map.className = "map";
  frame.append(legend, map);
  root.append(frame);
  const network = new globalThis.vis.Network(
    map, {nodes: new globalThis.vis.DataSet(data.nodes), edges: new globalThis.vis.DataSet(data.edges)}, data.options);
  // vis-network's own frame takes keyboard focus (tabindex 0): it says what it is when it is reached
  const canvasFrame = map.querySelector(".vis-network");
  if (canvasFrame) {
    canvasFrame.setAttribute("role", "img");
    canvasFrame.setAttribute("aria-label", data.alt);
  }
  frame.visNetwork = network;  // what it draws, for a test or the console (a property, not in the page's HTML)
  network.once("afterDrawing", () => frame.setAttribute("data-drawn", "true"));
  return () => {
    network.destroy();
    frame.remove();
  };
}
