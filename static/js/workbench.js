// Staff workbench: choosing a response template fills the public note at once (the
// "Einfügen" button does the same without script, through the server).
document.querySelectorAll("select[data-fill-note]").forEach((select) => {
  const note = document.getElementById(select.dataset.fillNote);
  const status = document.getElementById("status");
  select.addEventListener("change", () => {
    const option = select.selectedOptions[0];
    if (!option || !option.value || !note) return;
    note.value = option.dataset.text;
    if (status && option.dataset.status) status.value = option.dataset.status;
    note.focus();
  });
});
