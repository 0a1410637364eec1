<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>archway::gui::AccessLogPage</name>
    <message>
        <source>Requests as the gateway logs them, newest at the bottom (the last %1).</source>
        <translation>Anfragen, wie das Gateway sie protokolliert, die neuesten unten (die letzten %1).</translation>
    </message>
    <message>
        <source>Filter by path, route, consumer, status…</source>
        <translation>Nach Pfad, Route, Consumer, Status filtern…</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Leeren</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Latency (ms)</source>
        <translation>Latenz (ms)</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Fortsetzen</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Anhalten</translation>
    </message>
    <message>
        <source>Show the lines that arrived while paused, and new ones (Ctrl+P)</source>
        <translation>Die während der Pause eingetroffenen und neue Zeilen zeigen (Strg+P)</translation>
    </message>
    <message>
        <source>Stop adding new lines to the view (Ctrl+P)</source>
        <translation>Keine neuen Zeilen mehr anzeigen (Strg+P)</translation>
    </message>
    <message numerus="yes">
        <source>Paused, %n new line(s) waiting</source>
        <translation>
            <numerusform>Angehalten, %n neue Zeile wartet</numerusform>
            <numerusform>Angehalten, %n neue Zeilen warten</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>archway::gui::ConfigDiffPage</name>
    <message>
        <source>Open file…</source>
        <translation>Datei öffnen…</translation>
    </message>
    <message>
        <source>Open a kong.yml or JSON configuration (Ctrl+O)</source>
        <translation>Eine kong.yml- oder JSON-Konfiguration öffnen (Strg+O)</translation>
    </message>
    <message>
        <source>Load from node</source>
        <translation>Vom Knoten laden</translation>
    </message>
    <message>
        <source>Put the configuration the node serves now into the editor</source>
        <translation>Die Konfiguration, die der Knoten gerade verwendet, in den Editor laden</translation>
    </message>
    <message>
        <source>Show diff</source>
        <translation>Unterschiede zeigen</translation>
    </message>
    <message>
        <source>Compare the text with the node&apos;s live configuration (F5)</source>
        <translation>Den Text mit der laufenden Konfiguration des Knotens vergleichen (F5)</translation>
    </message>
    <message>
        <source>Apply</source>
        <translation>Anwenden</translation>
    </message>
    <message>
        <source>Send these changes to the node&apos;s Admin API (Ctrl+Enter)</source>
        <translation>Diese Änderungen an die Admin-API des Knotens senden (Strg+Eingabe)</translation>
    </message>
    <message>
        <source>Open a kong.yml, load the node&apos;s configuration, or type one here, then Show diff.</source>
        <translation>Eine kong.yml öffnen, die Konfiguration des Knotens laden oder hier eine eingeben, dann „Unterschiede zeigen“.</translation>
    </message>
    <message>
        <source>%v of %m calls</source>
        <translation>%v von %m Aufrufen</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Stop before the next Admin API call (Esc)</source>
        <translation>Vor dem nächsten Admin-API-Aufruf anhalten (Esc)</translation>
    </message>
    <message>
        <source>The node&apos;s configuration</source>
        <translation>Die Konfiguration des Knotens</translation>
    </message>
    <message>
        <source>No diff yet.</source>
        <translation>Noch kein Vergleich.</translation>
    </message>
    <message>
        <source>Open configuration</source>
        <translation>Konfiguration öffnen</translation>
    </message>
    <message>
        <source>Declarative configuration (*.yml *.yaml *.json);;All files (*)</source>
        <translation>Deklarative Konfiguration (*.yml *.yaml *.json);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>%1 kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Comparing with the node…</source>
        <translation>Vergleiche mit dem Knoten…</translation>
    </message>
    <message>
        <source>No differences: the node already serves this configuration.</source>
        <translation>Keine Unterschiede: Der Knoten verwendet diese Konfiguration bereits.</translation>
    </message>
    <message>
        <source>%1 to create, %2 to update, %3 to delete — %4 Admin API calls.</source>
        <translation>%1 anzulegen, %2 zu ändern, %3 zu löschen — %4 Admin-API-Aufrufe.</translation>
    </message>
    <message>
        <source>The configuration is not valid (%1 errors):</source>
        <translation>Die Konfiguration ist ungültig (%1 Fehler):</translation>
    </message>
    <message>
        <source>No diff.</source>
        <translation>Kein Vergleich.</translation>
    </message>
    <message>
        <source>Stopped after %1 of %2 calls: %3</source>
        <translation>Angehalten nach %1 von %2 Aufrufen: %3</translation>
    </message>
    <message>
        <source>Cancelled after %1 of %2 calls.</source>
        <translation>Abgebrochen nach %1 von %2 Aufrufen.</translation>
    </message>
    <message>
        <source>Applied: %1 of %2 calls.</source>
        <translation>Angewendet: %1 von %2 Aufrufen.</translation>
    </message>
    <message>
        <source>Apply %1 changes</source>
        <translation>%1 Änderungen anwenden</translation>
    </message>
</context>
<context>
    <name>archway::gui::DashboardPage</name>
    <message>
        <source>Requests per second</source>
        <translation>Anfragen pro Sekunde</translation>
    </message>
    <message>
        <source>Latency p50</source>
        <translation>Latenz p50</translation>
    </message>
    <message>
        <source>Latency p99</source>
        <translation>Latenz p99</translation>
    </message>
    <message>
        <source>Errors since start (4xx / 5xx)</source>
        <translation>Fehler seit Start (4xx / 5xx)</translation>
    </message>
    <message>
        <source>Open connections</source>
        <translation>Offene Verbindungen</translation>
    </message>
    <message>
        <source>req/s</source>
        <translation>Anfr./s</translation>
    </message>
    <message>
        <source>Requests/s</source>
        <translation>Anfragen/s</translation>
    </message>
    <message>
        <source>Latency (ms)</source>
        <translation>Latenz (ms)</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>ms</translation>
    </message>
    <message>
        <source>p50</source>
        <translation>p50</translation>
    </message>
    <message>
        <source>p99</source>
        <translation>p99</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 ms</translation>
    </message>
    <message>
        <source>%1 / %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <source>Routes</source>
        <translation>Routen</translation>
    </message>
    <message>
        <source>Consumers</source>
        <translation>Consumer</translation>
    </message>
    <message>
        <source>Upstream targets</source>
        <translation>Upstream-Targets</translation>
    </message>
</context>
<context>
    <name>archway::gui::ErrorLogPage</name>
    <message>
        <source>What the gateway logs (errors, warnings, lifecycle), newest at the bottom (the last %1).</source>
        <translation>Was das Gateway protokolliert (Fehler, Warnungen, Start und Stopp), das Neueste unten (die letzten %1).</translation>
    </message>
    <message>
        <source>What the gateway logs at all, from now on (the whole process; the Admin API&apos;s /debug/node/log-level sets the same)</source>
        <translation>Was das Gateway ab jetzt überhaupt protokolliert (für den ganzen Prozess; /debug/node/log-level der Admin-API setzt dasselbe)</translation>
    </message>
    <message>
        <source>&amp;Log level:</source>
        <translation>&amp;Protokollstufe:</translation>
    </message>
    <message>
        <source>All levels</source>
        <translation>Alle Stufen</translation>
    </message>
    <message>
        <source>Info and above</source>
        <translation>Info und höher</translation>
    </message>
    <message>
        <source>Warnings and errors</source>
        <translation>Warnungen und Fehler</translation>
    </message>
    <message>
        <source>Errors only</source>
        <translation>Nur Fehler</translation>
    </message>
    <message>
        <source>Which of the records received the table shows</source>
        <translation>Welche der empfangenen Einträge die Tabelle zeigt</translation>
    </message>
    <message>
        <source>&amp;Show:</source>
        <translation>&amp;Anzeigen:</translation>
    </message>
    <message>
        <source>Filter by message, service, host…</source>
        <translation>Nach Meldung, Service, Host filtern…</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Leeren</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>Stufe</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Fortsetzen</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Anhalten</translation>
    </message>
    <message>
        <source>Show the records that arrived while paused, and new ones (Ctrl+P)</source>
        <translation>Die während der Pause eingetroffenen und neue Einträge zeigen (Strg+P)</translation>
    </message>
    <message>
        <source>Stop adding new records to the view (Ctrl+P)</source>
        <translation>Keine neuen Einträge mehr in die Ansicht aufnehmen (Strg+P)</translation>
    </message>
    <message numerus="yes">
        <source>Paused, %n new record(s) waiting</source>
        <translation>
            <numerusform>Angehalten, %n neuer Eintrag wartet</numerusform>
            <numerusform>Angehalten, %n neue Einträge warten</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>archway::gui::MainWindow</name>
    <message>
        <source>Archway</source>
        <translation>Archway</translation>
    </message>
    <message>
        <source>Sending demo traffic</source>
        <translation>Demo-Verkehr wird gesendet</translation>
    </message>
    <message>
        <source>Demo traffic stopped</source>
        <translation>Demo-Verkehr angehalten</translation>
    </message>
    <message>
        <source>Demo traffic stopped: %1</source>
        <translation>Demo-Verkehr angehalten: %1</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>Send &amp;demo traffic</source>
        <translation>&amp;Demo-Verkehr senden</translation>
    </message>
    <message>
        <source>Send a steady mix of requests through the gateway (Ctrl+T)</source>
        <translation>Einen gleichmäßigen Mix von Anfragen durch das Gateway senden (Strg+T)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Traffic</source>
        <translation>&amp;Verkehr</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>Hauptleiste</translation>
    </message>
    <message>
        <source>The gateway could not start: %1</source>
        <translation>Das Gateway konnte nicht starten: %1</translation>
    </message>
    <message>
        <source>the gateway is not running</source>
        <translation>das Gateway läuft nicht</translation>
    </message>
    <message>
        <source>Cannot send demo traffic: %1</source>
        <translation>Demo-Verkehr kann nicht gesendet werden: %1</translation>
    </message>
    <message>
        <source>Configuration applied</source>
        <translation>Konfiguration übernommen</translation>
    </message>
    <message>
        <source>Configuration rejected: %1</source>
        <translation>Konfiguration abgelehnt: %1</translation>
    </message>
    <message>
        <source>Gateway error: %1</source>
        <translation>Gateway-Fehler: %1</translation>
    </message>
    <message>
        <source>Proxy: %1</source>
        <translation>Proxy: %1</translation>
    </message>
    <message>
        <source>Admin API: %1</source>
        <translation>Admin-API: %1</translation>
    </message>
    <message>
        <source>off</source>
        <translation>aus</translation>
    </message>
    <message>
        <source>Engine: running</source>
        <translation>Engine: läuft</translation>
    </message>
    <message>
        <source>Engine: stopped</source>
        <translation>Engine: angehalten</translation>
    </message>
    <message>
        <source>Engine: failed to start</source>
        <translation>Engine: Start fehlgeschlagen</translation>
    </message>
    <message>
        <source>Upstream health: %1</source>
        <translation>Upstream-Zustand: %1</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Dashboard</translation>
    </message>
    <message>
        <source>Plugins</source>
        <translation>Plugins</translation>
    </message>
    <message>
        <source>Traces</source>
        <translation>Traces</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;Dashboard</source>
        <translation>&amp;Dashboard</translation>
    </message>
    <message>
        <source>&amp;Plugins</source>
        <translation>&amp;Plugins</translation>
    </message>
    <message>
        <source>T&amp;races</source>
        <translation>T&amp;races</translation>
    </message>
    <message>
        <source>Access log</source>
        <translation>Zugriffsprotokoll</translation>
    </message>
    <message>
        <source>&amp;Access log</source>
        <translation>&amp;Zugriffsprotokoll</translation>
    </message>
    <message>
        <source>Error log</source>
        <translation>Fehlerprotokoll</translation>
    </message>
    <message>
        <source>Config</source>
        <translation>Konfiguration</translation>
    </message>
    <message>
        <source>&amp;Error log</source>
        <translation>&amp;Fehlerprotokoll</translation>
    </message>
    <message>
        <source>&amp;Config</source>
        <translation>&amp;Konfiguration</translation>
    </message>
    <message>
        <source>The embedded gateway&apos;s Admin API is not running.</source>
        <translation>Die Admin-API des eingebetteten Gateways läuft nicht.</translation>
    </message>
    <message>
        <source>Compared with the embedded gateway&apos;s live configuration (Admin API %1).</source>
        <translation>Verglichen mit der laufenden Konfiguration des eingebetteten Gateways (Admin-API %1).</translation>
    </message>
    <message>
        <source>Cannot manage %1: %2</source>
        <translation>%1 kann nicht verwaltet werden: %2</translation>
    </message>
    <message>
        <source>Archway — %1</source>
        <translation>Archway — %1</translation>
    </message>
    <message>
        <source>Compared with the live configuration of %1.</source>
        <translation>Verglichen mit der laufenden Konfiguration von %1.</translation>
    </message>
    <message>
        <source>Demo traffic goes through the embedded gateway; not available while managing a remote node</source>
        <translation>Demo-Verkehr läuft über das eingebettete Gateway; nicht verfügbar, solange ein entfernter Knoten verwaltet wird</translation>
    </message>
    <message>
        <source>Connected to %1</source>
        <translation>Verbunden mit %1</translation>
    </message>
    <message>
        <source>Node: %1</source>
        <translation>Knoten: %1</translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation>Getrennt</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbinde…</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Verbunden</translation>
    </message>
    <message>
        <source>Unreachable, retrying</source>
        <translation>Nicht erreichbar, neuer Versuch läuft</translation>
    </message>
    <message>
        <source>Token refused, retrying</source>
        <translation>Token abgelehnt, neuer Versuch läuft</translation>
    </message>
    <message>
        <source>No stats stream</source>
        <translation>Kein Statistik-Stream</translation>
    </message>
</context>
<context>
    <name>archway::gui::PluginsPage</name>
    <message>
        <source>Time each plugin adds to a request, per route: all its phases together, over the last 10 seconds.</source>
        <translation>Zeit, die jedes Plugin einer Anfrage hinzufügt, pro Route: alle Phasen zusammen, über die letzten 10 Sekunden.</translation>
    </message>
    <message>
        <source>Filter by route or plugin</source>
        <translation>Nach Route oder Plugin filtern</translation>
    </message>
</context>
<context>
    <name>archway::gui::TraceWaterfall</name>
    <message>
        <source>%1 µs</source>
        <translation>%1 µs</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 ms</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>Whole request</source>
        <translation>Gesamte Anfrage</translation>
    </message>
    <message>
        <source>%1 %2 → %3 in %4</source>
        <translation>%1 %2 → %3 in %4</translation>
    </message>
    <message>
        <source> · route %1</source>
        <translation> · Route %1</translation>
    </message>
    <message numerus="yes">
        <source> · %n span(s) not recorded</source>
        <translation>
            <numerusform> · %n Span nicht aufgezeichnet</numerusform>
            <numerusform> · %n Spans nicht aufgezeichnet</numerusform>
        </translation>
    </message>
    <message>
        <source>%1
Starts at %2, takes %3 (%4% of the request)</source>
        <translation>%1
Beginnt bei %2, dauert %3 (%4 % der Anfrage)</translation>
    </message>
    <message>
        <source>Select a trace to see where its time went.</source>
        <translation>Wählen Sie einen Trace, um zu sehen, wo seine Zeit bleibt.</translation>
    </message>
    <message>
        <source>Upstream</source>
        <translation>Upstream</translation>
    </message>
    <message>
        <source>Plugins</source>
        <translation>Plugins</translation>
    </message>
    <message>
        <source>Gateway</source>
        <translation>Gateway</translation>
    </message>
</context>
<context>
    <name>archway::gui::TracesPage</name>
    <message>
        <source>any route</source>
        <translation>jede Route</translation>
    </message>
    <message>
        <source>Show traces whose route name or id contains this text</source>
        <translation>Traces zeigen, deren Routenname oder -ID diesen Text enthält</translation>
    </message>
    <message>
        <source>&amp;Route:</source>
        <translation>&amp;Route:</translation>
    </message>
    <message>
        <source>Any</source>
        <translation>Alle</translation>
    </message>
    <message>
        <source>2xx</source>
        <translation>2xx</translation>
    </message>
    <message>
        <source>3xx</source>
        <translation>3xx</translation>
    </message>
    <message>
        <source>4xx</source>
        <translation>4xx</translation>
    </message>
    <message>
        <source>5xx</source>
        <translation>5xx</translation>
    </message>
    <message>
        <source>&amp;Status:</source>
        <translation>&amp;Status:</translation>
    </message>
    <message>
        <source> ms</source>
        <translation> ms</translation>
    </message>
    <message>
        <source>any</source>
        <translation>beliebig</translation>
    </message>
    <message>
        <source>Show only requests that took at least this long</source>
        <translation>Nur Anfragen zeigen, die mindestens so lange gedauert haben</translation>
    </message>
    <message>
        <source>&amp;At least:</source>
        <translation>&amp;Mindestens:</translation>
    </message>
    <message>
        <source>&amp;Live</source>
        <translation>&amp;Live</translation>
    </message>
    <message>
        <source>Read new traces every second; turn off to hold the list still</source>
        <translation>Jede Sekunde neue Traces lesen; ausschalten, um die Liste anzuhalten</translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation>Stichproben</translation>
    </message>
    <message>
        <source>Record &amp;traces</source>
        <translation>&amp;Traces aufzeichnen</translation>
    </message>
    <message>
        <source>Off: requests are not traced at all</source>
        <translation>Aus: Anfragen werden gar nicht verfolgt</translation>
    </message>
    <message>
        <source> %</source>
        <translation> %</translation>
    </message>
    <message>
        <source>Share of requests kept by trace id (Kong&apos;s tracing_sampling_rate)</source>
        <translation>Anteil der Anfragen, die nach Trace-ID behalten werden (Kongs tracing_sampling_rate)</translation>
    </message>
    <message>
        <source>Keep</source>
        <translation>Behalte</translation>
    </message>
    <message>
        <source>of requests, and always those with</source>
        <translation>der Anfragen, und immer die mit</translation>
    </message>
    <message>
        <source>never</source>
        <translation>nie</translation>
    </message>
    <message>
        <source>Keep every request that takes at least this long</source>
        <translation>Jede Anfrage behalten, die mindestens so lange dauert</translation>
    </message>
    <message>
        <source>or slower than</source>
        <translation>oder langsamer als</translation>
    </message>
    <message numerus="yes">
        <source>%n trace(s)</source>
        <translation>
            <numerusform>%n Trace</numerusform>
            <numerusform>%n Traces</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>archway::models::AccessLogModel</name>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>Methode</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Pfad</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Latency (ms)</source>
        <translation>Latenz (ms)</translation>
    </message>
    <message>
        <source>Route</source>
        <translation>Route</translation>
    </message>
    <message>
        <source>Consumer</source>
        <translation>Consumer</translation>
    </message>
</context>
<context>
    <name>archway::models::ConfigDiffModel</name>
    <message>
        <source>Create (%1)</source>
        <translation>Anlegen (%1)</translation>
    </message>
    <message>
        <source>Update (%1)</source>
        <translation>Ändern (%1)</translation>
    </message>
    <message>
        <source>Delete (%1)</source>
        <translation>Löschen (%1)</translation>
    </message>
    <message>
        <source>Entity</source>
        <translation>Entität</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Changed fields</source>
        <translation>Geänderte Felder</translation>
    </message>
    <message>
        <source>Before</source>
        <translation>Vorher</translation>
    </message>
    <message>
        <source>After</source>
        <translation>Nachher</translation>
    </message>
</context>
<context>
    <name>archway::models::ConfigDiffRunner</name>
    <message>
        <source>The node has no Admin API the console can reach (the embedded gateway runs with --admin-listen off, or is not running); the config diff needs one.</source>
        <translation>Der Knoten hat keine Admin-API, die die Konsole erreichen kann (das eingebettete Gateway läuft mit --admin-listen off oder läuft nicht); der Konfigurationsvergleich braucht eine.</translation>
    </message>
</context>
<context>
    <name>archway::models::ErrorLogModel</name>
    <message>
        <source>debug</source>
        <translation>Debug</translation>
    </message>
    <message>
        <source>info</source>
        <translation>Info</translation>
    </message>
    <message>
        <source>warn</source>
        <translation>Warnung</translation>
    </message>
    <message>
        <source>error</source>
        <translation>Fehler</translation>
    </message>
    <message>
        <source>off</source>
        <translation>aus</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>Stufe</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>Meldung</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Details</translation>
    </message>
</context>
<context>
    <name>archway::models::PluginStatsModel</name>
    <message>
        <source>%1 on %2: %3 µs in total since start</source>
        <translation>%1 auf %2: %3 µs insgesamt seit dem Start</translation>
    </message>
    <message>
        <source>Time per request, all phases together, last 10 s</source>
        <translation>Zeit pro Anfrage, alle Phasen zusammen, letzte 10 s</translation>
    </message>
    <message>
        <source>Requests the plugin ran on since start</source>
        <translation>Anfragen, bei denen das Plugin seit dem Start lief</translation>
    </message>
    <message>
        <source>Route</source>
        <translation>Route</translation>
    </message>
    <message>
        <source>Plugin</source>
        <translation>Plugin</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>Anfragen</translation>
    </message>
    <message>
        <source>Mean µs</source>
        <translation>Mittel µs</translation>
    </message>
    <message>
        <source>p99 µs</source>
        <translation>p99 µs</translation>
    </message>
    <message>
        <source>Max µs</source>
        <translation>Max. µs</translation>
    </message>
    <message>
        <source>(no route)</source>
        <translation>(keine Route)</translation>
    </message>
</context>
<context>
    <name>archway::models::RemoteNode</name>
    <message>
        <source>Cannot reach the node: %1</source>
        <translation>Knoten nicht erreichbar: %1</translation>
    </message>
    <message>
        <source>The node at %1 refused the Admin API token (HTTP 401): pass the right one with --token.</source>
        <translation>Der Knoten unter %1 hat das Admin-API-Token abgelehnt (HTTP 401): das richtige mit --token angeben.</translation>
    </message>
    <message>
        <source>The node at %1 has no stats stream (GET /archway/stats/stream answered 404): it is not an Archway node, so there are no live stats.</source>
        <translation>Der Knoten unter %1 hat keinen Statistik-Stream (GET /archway/stats/stream antwortete 404): Er ist kein Archway-Knoten, daher gibt es keine Live-Statistik.</translation>
    </message>
    <message>
        <source>The node at %1 answered HTTP %2 to the stats stream: %3</source>
        <translation>Der Knoten unter %1 antwortete auf den Statistik-Stream mit HTTP %2: %3</translation>
    </message>
    <message>
        <source>The node at %1 ended the stats stream.</source>
        <translation>Der Knoten unter %1 hat den Statistik-Stream beendet.</translation>
    </message>
    <message>
        <source>No answer from the node: %1</source>
        <translation>Keine Antwort vom Knoten: %1</translation>
    </message>
    <message>
        <source>The node refused the token (401 Unauthorized).</source>
        <translation>Der Knoten hat das Token abgelehnt (401 Unauthorized).</translation>
    </message>
    <message>
        <source>This node cannot change its trace sampling over the Admin API (HTTP %1); it may be an older version.</source>
        <translation>Dieser Knoten kann sein Trace-Sampling nicht über die Admin-API ändern (HTTP %1); möglicherweise ist es eine ältere Version.</translation>
    </message>
    <message>
        <source>The node refused the sampling settings (HTTP %1): %2</source>
        <translation>Der Knoten hat die Sampling-Einstellungen abgelehnt (HTTP %1): %2</translation>
    </message>
    <message>
        <source>The node answered with sampling settings the console cannot read.</source>
        <translation>Der Knoten hat mit Sampling-Einstellungen geantwortet, die die Konsole nicht lesen kann.</translation>
    </message>
    <message>
        <source>This node has no Admin API endpoint for this log (GET %1 answered 404); it may be an older version.</source>
        <translation>Dieser Knoten hat keinen Admin-API-Endpunkt für dieses Log (GET %1 antwortete 404); vielleicht ist er eine ältere Version.</translation>
    </message>
    <message>
        <source>The node answered HTTP %1 to GET %2.</source>
        <translation>Der Knoten antwortete auf GET %2 mit HTTP %1.</translation>
    </message>
    <message>
        <source>The node answered GET %1 with something the console cannot read.</source>
        <translation>Der Knoten antwortete auf GET %1 mit etwas, das die Konsole nicht lesen kann.</translation>
    </message>
    <message>
        <source>The node keeps no access log of its own (no --access-log file): requests are shown from %1 on, while this page is open.</source>
        <translation>Der Knoten führt kein eigenes Zugriffslog (keine --access-log-Datei): Anfragen werden ab %1 angezeigt, solange diese Seite offen ist.</translation>
    </message>
</context>
<context>
    <name>archway::models::RouteStatsModel</name>
    <message>
        <source>Route</source>
        <translation>Route</translation>
    </message>
    <message>
        <source>Requests</source>
        <translation>Anfragen</translation>
    </message>
    <message>
        <source>Req/s</source>
        <translation>Anfr./s</translation>
    </message>
    <message>
        <source>4xx</source>
        <translation>4xx</translation>
    </message>
    <message>
        <source>5xx</source>
        <translation>5xx</translation>
    </message>
    <message>
        <source>p50 (ms)</source>
        <translation>p50 (ms)</translation>
    </message>
    <message>
        <source>p99 (ms)</source>
        <translation>p99 (ms)</translation>
    </message>
    <message>
        <source>(other consumers)</source>
        <translation>(weitere Consumer)</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>Consumer</source>
        <translation>Consumer</translation>
    </message>
    <message>
        <source>Target (upstream)</source>
        <translation>Target (Upstream)</translation>
    </message>
    <message>
        <source>p95 (ms)</source>
        <translation>p95 (ms)</translation>
    </message>
</context>
<context>
    <name>archway::models::TraceListModel</name>
    <message>
        <source>(none)</source>
        <translation>(keine)</translation>
    </message>
    <message>
        <source>Service: %1</source>
        <translation>Service: %1</translation>
    </message>
    <message>
        <source>Upstream answered %1</source>
        <translation>Upstream antwortete %1</translation>
    </message>
    <message>
        <source>The upstream was not reached</source>
        <translation>Der Upstream wurde nicht erreicht</translation>
    </message>
    <message>
        <source>Trace ID</source>
        <translation>Trace-ID</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>Zeit</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>Methode</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>Pfad</translation>
    </message>
    <message>
        <source>Route</source>
        <translation>Route</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Duration (ms)</source>
        <translation>Dauer (ms)</translation>
    </message>
</context>
</TS>
