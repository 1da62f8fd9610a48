@echo off
rem jbang.cmd: runs JBang for this project on Windows (see ./jbang for the same steps in bash).
rem  - Makes sure a JDK 25 is used: JAVA_HOME if it is 25+, else one found in the usual folders.
rem  - Uses the jbang on your PATH when there is one.
rem  - Else installs the pinned JBang once (from your .m2 or Maven Central, checksums checked).
setlocal EnableDelayedExpansion
set "JBANG_VERSION=0.127.18"
set "HERE=%~dp0"

set "JDK="
if defined JAVA_HOME call :consider "%JAVA_HOME%"
if not defined JDK for /d %%d in ("%ProgramFiles%\Eclipse Adoptium\jdk-*" "%ProgramFiles%\Java\jdk-*" "%ProgramFiles%\Microsoft\jdk-*" "%ProgramFiles%\Zulu\zulu-*" "%USERPROFILE%\.jdks\*" "%USERPROFILE%\.jbang\cache\jdks\*") do call :consider "%%~d"
if defined JDK (
  set "JAVA_HOME=!JDK!"
  set "PATH=!JDK!\bin;!PATH!"
) else (
  echo jbang: no JDK 25 found ^(JAVA_HOME, Program Files, .jdks^); JBang will try to download one. 1>&2
)

where jbang.cmd >nul 2>&1
if !errorlevel! equ 0 if /i not "%~f0"=="%~dp$PATH:0jbang.cmd" (
  call jbang.cmd %*
  exit /b !errorlevel!
)

if defined JDK (set "JAVA=!JDK!\bin\java.exe") else (set "JAVA=java")
"!JAVA!" -version >nul 2>&1 || (echo jbang: needs Java 17 or newer to start: install a JDK 25, e.g. from https://adoptium.net 1>&2 & exit /b 1)

if defined JBANG_DIR (set "JBDIR=%JBANG_DIR%") else (set "JBDIR=%USERPROFILE%\.jbang")
set "LIB=!JBDIR!\wrapper\%JBANG_VERSION%"
if not exist "!LIB!\jbang-cli-%JBANG_VERSION%.jar" (
  "!JAVA!" "%HERE%.jbang\wrapper\Bootstrap.java" "%HERE%.jbang\wrapper\jbang-%JBANG_VERSION%.deps" "!LIB!" || exit /b 1
)

rem JBang writes the command that runs the script and exits 255; we then run that command.
set "JBANG_RUNTIME_SHELL=cmd"
if not defined JBANG_NO_VERSION_CHECK set "JBANG_NO_VERSION_CHECK=true"
set "OUT=%TEMP%\jbang-wrapper-%RANDOM%%RANDOM%.cmd"
"!JAVA!" %JBANG_JAVA_OPTIONS% -classpath "!LIB!\*" dev.jbang.Main %* > "!OUT!"
set "STATUS=!errorlevel!"
if !STATUS! equ 255 (
  call "!OUT!"
  set "STATUS=!errorlevel!"
  del "!OUT!" >nul 2>&1
  exit /b !STATUS!
)
type "!OUT!"
del "!OUT!" >nul 2>&1
exit /b !STATUS!

:consider
if not exist "%~1\bin\javac.exe" exit /b 0
if not exist "%~1\release" exit /b 0
set "VERSION="
for /f "tokens=2 delims==" %%v in ('findstr /b "JAVA_VERSION=" "%~1\release"') do set "VERSION=%%~v"
for /f "delims=." %%m in ("!VERSION!") do set "MAJOR=%%m"
if defined MAJOR if !MAJOR! geq 25 set "JDK=%~1"
exit /b 0
