package propsbackfill.zetasqlcheck;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.zetasql.Analyzer;
import com.google.zetasql.AnalyzerOptions;
import com.google.zetasql.SimpleCatalog;
import com.google.zetasql.SimpleColumn;
import com.google.zetasql.SimpleTable;
import com.google.zetasql.SqlException;
import com.google.zetasql.Type;
import com.google.zetasql.ZetaSQLOptions.ErrorMessageMode;
import com.google.zetasql.ZetaSQLOptions.ParameterMode;
import com.google.zetasql.parser.ASTNodes.ASTSingleAssignment;
import com.google.zetasql.parser.ASTNodes.ASTStatement;
import com.google.zetasql.parser.ASTNodes.ASTVariableDeclaration;
import com.google.zetasql.resolvedast.ResolvedCreateStatementEnums.CreateMode;
import com.google.zetasql.resolvedast.ResolvedCreateStatementEnums.CreateScope;
import com.google.zetasql.toolkit.AnalysisException;
import com.google.zetasql.toolkit.AnalyzedStatement;
import com.google.zetasql.toolkit.ZetaSQLToolkitAnalyzer;
import com.google.zetasql.toolkit.catalog.bigquery.BigQueryCatalog;
import com.google.zetasql.toolkit.catalog.bigquery.LocalBigQueryResourceProvider;
import com.google.zetasql.toolkit.catalog.io.CatalogResources;
import com.google.zetasql.toolkit.catalog.typeparser.ZetaSQLTypeParser;
import com.google.zetasql.toolkit.options.BigQueryLanguageOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Offline BigQuery SQL validity checker.
 *
 * <p>Reads one JSON file ({@code tables}, {@code statements}, optional {@code defaultProject}),
 * analyses every statement with Google's ZetaSQL analyser under BigQuery's language options and a
 * BigQuery-semantics catalog holding exactly the declared tables, and prints one JSON line per
 * statement plus a summary line.
 *
 * <p>Exit codes: 0 every statement passed (ok != expectError), 1 at least one did not, 2 the input
 * is unreadable or invalid, 3 the analyser itself failed (e.g. its native library did not load).
 */
public final class Main {

  /** Invalid input: reported as one line on stderr, exit 2. */
  static final class InputError extends Exception {
    InputError(String message) {
      super(message);
    }
  }

  record Column(String name, Type type) {}

  record Table(String project, String dataset, String table, List<Column> columns) {
    String fullName() {
      return project + "." + dataset + "." + table;
    }
  }

  record Statement(String id, String sql, Map<String, Type> params, boolean expectError) {}

  record Input(String defaultProject, List<Table> tables, List<Statement> statements) {}

  /** Field order here is the order of the JSON keys on stdout. */
  static final class Result {
    final String id;
    final boolean ok;
    final String error;
    final boolean expectError;
    final boolean pass;

    Result(String id, String error, boolean expectError) {
      this.id = id;
      this.ok = error == null;
      this.error = error;
      this.expectError = expectError;
      this.pass = this.ok != expectError;
    }
  }

  static final class Summary {
    final boolean summary = true;
    int analysed;
    int accepted;
    int rejected;
    int unexpected;
  }

  // What BigQueryCatalog accepts in a table reference (it throws InvalidBigQueryReference otherwise).
  private static final Pattern PROJECT = Pattern.compile("[a-zA-Z0-9.\\-:]+");
  private static final Pattern DATASET = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Pattern TABLE = Pattern.compile("[a-zA-Z0-9_-]+");
  // "@name" query parameters: a plain identifier.
  private static final Pattern PARAM = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private Main() {}

  public static void main(String[] args) {
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    if (args.length != 1) {
      System.err.println("usage: zetasql-check <input.json>");
      System.exit(2);
    }
    Input input;
    try {
      input = readInput(Path.of(args[0]));
    } catch (InputError e) {
      System.err.println("zetasql-check: invalid input " + args[0] + ": " + e.getMessage());
      System.exit(2);
      return;
    }

    int exit;
    try {
      exit = run(input, out);
    } catch (InputError e) {
      out.flush();
      System.err.println("zetasql-check: invalid input " + args[0] + ": " + e.getMessage());
      exit = 2;
    } catch (RuntimeException | LinkageError e) {
      out.flush();
      System.err.println("zetasql-check: analyser failure: " + describe(e));
      exit = 3;
    }
    out.flush();
    System.exit(exit);
  }

  static int run(Input input, PrintStream out) throws InputError {
    Gson gson = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();
    BigQueryCatalog catalog = buildCatalog(input);

    Summary summary = new Summary();
    for (Statement statement : input.statements()) {
      String error = analyse(catalog, statement);
      Result result = new Result(statement.id(), error, statement.expectError());
      out.println(gson.toJson(result));
      out.flush();
      summary.analysed++;
      if (result.ok) {
        summary.accepted++;
      } else {
        summary.rejected++;
      }
      if (!result.pass) {
        summary.unexpected++;
      }
    }
    out.println(gson.toJson(summary));
    return summary.unexpected == 0 ? 0 : 1;
  }

  /**
   * A BigQueryCatalog (BigQuery name semantics, BigQuery built-in functions and type aliases) with
   * no remote resource provider: it holds exactly the declared tables, registered under their full
   * "project.dataset.table" name (and "dataset.table" for tables in the default project, if one is
   * given). The toolkit rewrites most table paths of a statement to one backticked name before
   * resolving it, so `p.d.t`, `p`.`d`.`t` and p.d.t all find the same table; the nested catalogs
   * cover the paths it leaves alone.
   */
  static BigQueryCatalog buildCatalog(Input input) throws InputError {
    LocalBigQueryResourceProvider noRemoteResources =
        new LocalBigQueryResourceProvider(
            new CatalogResources(List.of(), List.of(), List.of(), List.of()));
    BigQueryCatalog catalog = new BigQueryCatalog(input.defaultProject(), noRemoteResources);
    for (Table table : input.tables()) {
      List<SimpleColumn> columns = new ArrayList<>();
      for (Column column : table.columns()) {
        columns.add(new SimpleColumn(table.table(), column.name(), column.type()));
      }
      try {
        catalog.register(
            new SimpleTable(table.fullName(), columns),
            CreateMode.CREATE_DEFAULT,
            CreateScope.CREATE_DEFAULT_SCOPE);
        // Also as nested catalogs project > dataset > table (and dataset > table in the default
        // project): the toolkit's path rewriting skips DML targets, so `DELETE FROM p.d.t` or
        // `INSERT INTO `p`.d.t` reach the analyser as multi-part paths.
        SimpleCatalog root = catalog.getZetaSQLCatalog();
        nested(nested(root, table.project()), table.dataset())
            .addSimpleTable(table.table(), new SimpleTable(table.fullName(), columns));
        if (table.project().equalsIgnoreCase(input.defaultProject())) {
          nested(root, table.dataset())
              .addSimpleTable(table.table(), new SimpleTable(table.fullName(), columns));
        }
      } catch (RuntimeException e) {
        throw new InputError("table " + table.fullName() + ": " + describe(e));
      }
    }
    return catalog;
  }

  private static SimpleCatalog nested(SimpleCatalog parent, String name) {
    for (SimpleCatalog child : parent.getCatalogList()) {
      if (child.getFullName().equalsIgnoreCase(name)) {
        return child;
      }
    }
    return parent.addNewSimpleCatalog(name);
  }

  /**
   * Analyses every statement of {@code statement.sql} (a single statement or a script) against a
   * private copy of the catalog, so CREATEs in one input statement never leak into another.
   *
   * @return null when accepted, else the analyser's message (with its "[at line:column]")
   */
  static String analyse(BigQueryCatalog catalog, Statement statement) {
    AnalyzerOptions options = new AnalyzerOptions();
    options.setLanguageOptions(BigQueryLanguageOptions.get());
    options.setErrorMessageMode(ErrorMessageMode.ERROR_MESSAGE_ONE_LINE);
    options.setParameterMode(ParameterMode.PARAMETER_NAMED);
    options.setAllowUndeclaredParameters(false);
    statement.params().forEach(options::addQueryParameter);

    // Trailing whitespace after the last ';' would otherwise be read as one more (empty) statement.
    String sql = statement.sql().stripTrailing();
    if (sql.isEmpty()) {
      return "empty SQL";
    }
    ZetaSQLToolkitAnalyzer analyzer = new ZetaSQLToolkitAnalyzer(options);
    int index = 0;
    try {
      Iterator<AnalyzedStatement> statements = analyzer.analyzeStatements(sql, catalog);
      while (statements.hasNext()) {
        AnalyzedStatement analysed = statements.next();
        index++;
        if (analysed.getResolvedStatement().isEmpty() && !isValidatedScriptStatement(analysed)) {
          // The toolkit only parses control-flow script statements (IF, LOOP, BEGIN...END, ...)
          // and everything after the first one: refuse rather than pass unchecked SQL.
          ASTStatement parsed = analysed.getParsedStatement();
          return String.format(
              "Not resolved: statement %d (%s) is a script control-flow statement; the analyser"
                  + " only parses it and the statements after it [at %s]",
              index, parsed.getClass().getSimpleName().replaceFirst("^AST", ""),
              lineColumn(sql, parsed.getParseLocationRange().start()));
        }
      }
    } catch (AnalysisException e) {
      return withLocation(message(e), sql, options);
    } catch (RuntimeException e) {
      // Catalog mutations from CREATE/DROP (e.g. CatalogResourceAlreadyExists, BigQueryCreateError)
      // and the toolkit's own checks are RuntimeExceptions of other kinds.
      return "statement " + (index + 1) + ": " + describe(e);
    }
    if (index == 0) {
      return "no SQL statement found";
    }
    return null;
  }

  /**
   * The toolkit's parser call takes no error-message mode, so its syntax errors come without the
   * "[at line:column]" that analyser errors carry. The analyser's own script parser (reached here
   * through extractTableNamesFromScript, which honours the options' ERROR_MESSAGE_ONE_LINE) reports
   * the same first syntax error with its location.
   */
  private static String withLocation(String message, String sql, AnalyzerOptions options) {
    if (message.contains("[at ") || !message.startsWith("Syntax error")) {
      return message;
    }
    try {
      Analyzer.extractTableNamesFromScript(sql, options);
    } catch (SqlException e) {
      String located = message(e);
      if (located.contains("[at ")) {
        return located;
      }
    } catch (RuntimeException e) {
      // keep the unlocated message
    }
    return message;
  }

  /** DECLARE and SET are not resolved, but the toolkit does type-check them. */
  private static boolean isValidatedScriptStatement(AnalyzedStatement analysed) {
    ASTStatement parsed = analysed.getParsedStatement();
    return parsed instanceof ASTVariableDeclaration || parsed instanceof ASTSingleAssignment;
  }

  private static String message(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.strip();
  }

  private static String describe(Throwable e) {
    return e.getClass().getSimpleName() + ": " + message(e);
  }

  /** 1-based "line:column" of a byte offset in the UTF-8 text of sql. */
  private static String lineColumn(String sql, int byteOffset) {
    byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
    String prefix =
        new String(bytes, 0, Math.max(0, Math.min(byteOffset, bytes.length)), StandardCharsets.UTF_8);
    int line = 1;
    int lineStart = 0;
    for (int i = 0; i < prefix.length(); i++) {
      if (prefix.charAt(i) == '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return line + ":" + (prefix.length() - lineStart + 1);
  }

  // ---- input

  static Input readInput(Path path) throws InputError {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException | RuntimeException e) {
      throw new InputError("cannot read it (" + describe(e) + ")");
    }
    JsonElement root;
    try {
      root = JsonParser.parseString(text);
    } catch (JsonParseException e) {
      throw new InputError("not JSON (" + message(e) + ")");
    }
    if (!root.isJsonObject()) {
      throw new InputError("the top level must be an object with \"tables\" and \"statements\"");
    }
    JsonObject object = root.getAsJsonObject();

    String defaultProject = "";
    if (object.has("defaultProject") && !object.get("defaultProject").isJsonNull()) {
      defaultProject = string(object, "defaultProject", "input");
      if (!PROJECT.matcher(defaultProject).matches()) {
        throw new InputError("defaultProject: not a valid BigQuery project id: " + defaultProject);
      }
    }

    List<Table> tables = new ArrayList<>();
    Set<String> tableNames = new HashSet<>();
    JsonArray tableArray = array(object, "tables", "tables");
    for (int i = 0; i < tableArray.size(); i++) {
      String where = "tables[" + i + "]";
      JsonObject t = object(tableArray.get(i), where);
      String project = string(t, "project", where);
      String dataset = string(t, "dataset", where);
      String table = string(t, "table", where);
      if (!PROJECT.matcher(project).matches()
          || !DATASET.matcher(dataset).matches()
          || !TABLE.matcher(table).matches()) {
        throw new InputError(
            where + ": not a valid BigQuery table reference: " + project + "." + dataset + "." + table);
      }
      where = where + " (" + project + "." + dataset + "." + table + ")";
      if (!tableNames.add((project + "." + dataset + "." + table).toLowerCase(Locale.ROOT))) {
        throw new InputError(where + ": declared twice");
      }
      List<Column> columns = new ArrayList<>();
      Set<String> columnNames = new HashSet<>();
      JsonArray columnArray = array(t, "columns", where);
      if (columnArray.isEmpty()) {
        throw new InputError(where + ".columns: a table needs at least one column");
      }
      for (int j = 0; j < columnArray.size(); j++) {
        String cwhere = where + ".columns[" + j + "]";
        JsonObject c = object(columnArray.get(j), cwhere);
        String name = string(c, "name", cwhere);
        if (!columnNames.add(name.toLowerCase(Locale.ROOT))) {
          throw new InputError(cwhere + ": column " + name + " declared twice");
        }
        columns.add(new Column(name, type(string(c, "type", cwhere), cwhere + ".type")));
      }
      tables.add(new Table(project, dataset, table, columns));
    }

    List<Statement> statements = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    JsonArray statementArray = array(object, "statements", "statements");
    if (statementArray.isEmpty()) {
      throw new InputError("statements: empty (nothing to check would pass vacuously)");
    }
    for (int i = 0; i < statementArray.size(); i++) {
      String where = "statements[" + i + "]";
      JsonObject s = object(statementArray.get(i), where);
      String id = string(s, "id", where);
      where = where + " (" + id + ")";
      if (!ids.add(id)) {
        throw new InputError(where + ": duplicate id");
      }
      String sql = string(s, "sql", where);
      Map<String, Type> params = new LinkedHashMap<>();
      if (s.has("params") && !s.get("params").isJsonNull()) {
        JsonObject p = object(s.get("params"), where + ".params");
        Set<String> paramNames = new HashSet<>();
        for (Map.Entry<String, JsonElement> e : p.entrySet()) {
          String pwhere = where + ".params." + e.getKey();
          if (!PARAM.matcher(e.getKey()).matches()) {
            throw new InputError(pwhere + ": not a valid parameter name");
          }
          if (!paramNames.add(e.getKey().toLowerCase(Locale.ROOT))) {
            throw new InputError(pwhere + ": declared twice (parameter names ignore case)");
          }
          if (!e.getValue().isJsonPrimitive() || !e.getValue().getAsJsonPrimitive().isString()) {
            throw new InputError(pwhere + ": the type must be a string such as \"DATE\"");
          }
          params.put(e.getKey(), type(e.getValue().getAsString(), pwhere));
        }
      }
      boolean expectError = false;
      if (s.has("expectError") && !s.get("expectError").isJsonNull()) {
        JsonElement e = s.get("expectError");
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
          throw new InputError(where + ".expectError: must be true or false");
        }
        expectError = e.getAsBoolean();
      }
      statements.add(new Statement(id, sql, params, expectError));
    }
    return new Input(defaultProject, tables, statements);
  }

  /** BigQuery type names: STRING, INT64, FLOAT64, BOOL, DATE, TIMESTAMP, NUMERIC, ARRAY<...>, ... */
  private static Type type(String name, String where) throws InputError {
    if (name.isBlank()) {
      throw new InputError(where + ": empty type");
    }
    try {
      return ZetaSQLTypeParser.parse(name.strip().toUpperCase(Locale.ROOT));
    } catch (RuntimeException e) {
      throw new InputError(where + ": unknown type " + name);
    }
  }

  private static JsonObject object(JsonElement e, String where) throws InputError {
    if (e == null || !e.isJsonObject()) {
      throw new InputError(where + ": must be an object");
    }
    return e.getAsJsonObject();
  }

  private static JsonArray array(JsonObject o, String key, String where) throws InputError {
    JsonElement e = o.get(key);
    if (e == null || !e.isJsonArray()) {
      throw new InputError(where + ": missing or not an array");
    }
    return e.getAsJsonArray();
  }

  private static String string(JsonObject o, String key, String where) throws InputError {
    JsonElement e = o.get(key);
    if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw new InputError(where + "." + key + ": missing or not a string");
    }
    String value = e.getAsString();
    if (value.isBlank()) {
      throw new InputError(where + "." + key + ": empty");
    }
    return value;
  }
}
