// Front-desk check-in: scan the QR ticket with the phone's camera (the browser's own
// BarcodeDetector, no third-party library), put the payload in the code field and submit.
// Without camera support the button stays hidden and staff type the pickup code.
(function () {
  "use strict";
  var button = document.getElementById("scan-button");
  var form = document.getElementById("check-in-form");
  var field = document.getElementById("code");
  var box = document.getElementById("scanner");
  var video = document.getElementById("scanner-video");
  var status = document.getElementById("scanner-status");
  if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  button.hidden = false;
  var stream = null;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    box.hidden = true;
  }

  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
      stream = s;
      video.srcObject = s;
      box.hidden = false;
      status.textContent = status.getAttribute("data-t-aim") || "请将电子票二维码对准摄像头";
      return video.play();
    }).then(function tick() {
      if (!stream) { return; }
      detector.detect(video).then(function (codes) {
        if (codes.length) {
          field.value = codes[0].rawValue;
          stop();
          form.submit();
        } else {
          window.requestAnimationFrame(tick);
        }
      }).catch(function () { window.requestAnimationFrame(tick); });
    }).catch(function () {
      status.textContent = status.getAttribute("data-t-no-camera") || "无法打开摄像头，请输入取票码。";
      box.hidden = false;
    });
  });
})();
